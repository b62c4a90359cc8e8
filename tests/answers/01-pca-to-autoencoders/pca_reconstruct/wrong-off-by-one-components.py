# wrong: off by one, skips the first principal direction (vh[1:k + 1] instead of vh[:k])
def pca_reconstruct(x: torch.Tensor, k: int) -> torch.Tensor:
    """The reconstruction of the rows of x (N x D) from their first k principal components."""
    mean = x.mean(dim=0, keepdim=True)
    centred = x - mean
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    directions = vh[1:k + 1]
    return centred @ directions.T @ directions + mean
