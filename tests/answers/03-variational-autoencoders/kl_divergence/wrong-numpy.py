# wrong: computes with numpy (no gradient, a numpy array instead of a tensor)
# breaks: test_kl_divergence
def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) of each row: a tensor of shape N."""
    ### BEGIN SOLUTION
    import numpy as np
    m, lv = mu.detach().cpu().numpy(), logvar.detach().cpu().numpy()
    return torch.from_numpy(0.5 * np.sum(np.exp(lv) + m**2 - 1.0 - lv, axis=1))
    ### END SOLUTION
