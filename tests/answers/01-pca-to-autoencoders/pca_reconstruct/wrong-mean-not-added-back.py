# wrong: forgets to add the mean image back after projecting
def pca_reconstruct(x: torch.Tensor, k: int) -> torch.Tensor:
    """The reconstruction of the rows of x (N x D) from their first k principal components."""
    mean = x.mean(dim=0, keepdim=True)
    centred = x - mean
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    directions = vh[:k]
    return centred @ directions.T @ directions
