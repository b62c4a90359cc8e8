# alternative: NumPy's SVD on a CPU copy, converted back to x's dtype and device
import numpy as np


def pca_reconstruct(x: torch.Tensor, k: int) -> torch.Tensor:
    """The reconstruction of the rows of x (N x D) from their first k principal components."""
    a = x.detach().cpu().numpy()
    mean = a.mean(axis=0)
    _, _, vt = np.linalg.svd(a - mean, full_matrices=False)
    projection = vt[:k].T @ vt[:k]
    return torch.from_numpy((a - mean) @ projection + mean).to(dtype=x.dtype, device=x.device)
