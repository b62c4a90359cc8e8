# wrong: one noise vector shared by every row of the batch (eps of shape latent_dim, broadcast)
# breaks: test_reparameterize
def reparameterize(
    mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A sample z ~ N(mu, exp(logvar)) written as mu + eps * sigma, so that gradients reach mu and logvar."""
    ### BEGIN SOLUTION
    sigma = torch.exp(0.5 * logvar)  # logvar = log sigma^2
    eps = torch.randn(mu.shape[1:], generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + eps * sigma
    ### END SOLUTION
