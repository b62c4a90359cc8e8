# alternative: the form of Kingma & Welling's code, -1/2 sum(1 + logvar - mu^2 - exp(logvar)), written with pow and exp
def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) of each row: a tensor of shape N."""
    ### BEGIN SOLUTION
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    ### END SOLUTION
