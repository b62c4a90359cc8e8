# alternative: draws eps with torch.normal(0, 1) of mu's shape, then shifts and scales it (gradients flow through mu and sigma)
def reparameterize(
    mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A sample z ~ N(mu, exp(logvar)) written as mu + eps * sigma, so that gradients reach mu and logvar."""
    ### BEGIN SOLUTION
    sigma = torch.exp(0.5 * logvar)  # logvar = log sigma^2
    eps = torch.normal(torch.zeros_like(mu), torch.ones_like(mu), generator=generator)
    return mu + eps * sigma
    ### END SOLUTION
