# alternative: torch.pca_lowrank with all components (it centres itself), then the first k
def pca_reconstruct(x: torch.Tensor, k: int) -> torch.Tensor:
    """The reconstruction of the rows of x (N x D) from their first k principal components."""
    mean = x.mean(dim=0, keepdim=True)
    _, _, v = torch.pca_lowrank(x, q=min(x.shape), center=True)
    v = v[:, :k]
    return (x - mean) @ v @ v.T + mean
