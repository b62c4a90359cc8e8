# wrong: averages over the latent dimensions instead of summing
def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) of each row: a tensor of shape N."""
    ### BEGIN SOLUTION
    return 0.5 * torch.mean(torch.exp(logvar) + mu**2 - 1.0 - logvar, dim=1)
    ### END SOLUTION
