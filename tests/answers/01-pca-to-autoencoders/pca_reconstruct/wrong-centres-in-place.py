# wrong: centres the input in place (x -= mean), so the caller's x is changed
def pca_reconstruct(x: torch.Tensor, k: int) -> torch.Tensor:
    """The reconstruction of the rows of x (N x D) from their first k principal components."""
    mean = x.mean(dim=0, keepdim=True)
    x -= mean
    _, _, vh = torch.linalg.svd(x, full_matrices=False)
    directions = vh[:k]
    return x @ directions.T @ directions + mean
