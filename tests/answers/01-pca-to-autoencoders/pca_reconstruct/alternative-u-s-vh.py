# alternative: rebuilds from the truncated SVD U_k S_k V_k^T instead of projecting onto V_k
def pca_reconstruct(x: torch.Tensor, k: int) -> torch.Tensor:
    """The reconstruction of the rows of x (N x D) from their first k principal components."""
    mean = x.mean(0)
    u, s, vh = torch.linalg.svd(x - mean, full_matrices=False)
    return (u[:, :k] * s[:k]) @ vh[:k] + mean
