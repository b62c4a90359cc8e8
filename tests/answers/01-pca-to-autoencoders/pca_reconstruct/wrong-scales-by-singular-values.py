# wrong: projects onto the directions scaled by their singular values (V S instead of V)
def pca_reconstruct(x: torch.Tensor, k: int) -> torch.Tensor:
    """The reconstruction of the rows of x (N x D) from their first k principal components."""
    mean = x.mean(dim=0, keepdim=True)
    centred = x - mean
    _, s, vh = torch.linalg.svd(centred, full_matrices=False)
    directions = s[:k, None] * vh[:k]
    return centred @ directions.T @ directions / s[0] ** 2 + mean
