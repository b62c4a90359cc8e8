# wrong: takes the SVD of the raw data without centring it
def pca_reconstruct(x: torch.Tensor, k: int) -> torch.Tensor:
    """The reconstruction of the rows of x (N x D) from their first k principal components."""
    _, _, vh = torch.linalg.svd(x, full_matrices=False)
    directions = vh[:k]
    return x @ directions.T @ directions
