# alternative: eigenvectors of the covariance matrix (torch.linalg.eigh) instead of the SVD
def pca_reconstruct(x: torch.Tensor, k: int) -> torch.Tensor:
    """The reconstruction of the rows of x (N x D) from their first k principal components."""
    mean = x.mean(dim=0)
    centred = x - mean
    covariance = centred.T @ centred / (len(x) - 1)
    _, eigenvectors = torch.linalg.eigh(covariance)  # ascending eigenvalues
    v = eigenvectors[:, -k:]  # D x k: the k largest
    return mean + centred @ v @ v.T
