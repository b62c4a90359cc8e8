# wrong: samples with torch.normal(mu, sigma), which has no gradient to mu or logvar
# breaks: test_reparameterize_gradients
def reparameterize(
    mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A sample z ~ N(mu, exp(logvar)) written as mu + eps * sigma, so that gradients reach mu and logvar."""
    ### BEGIN SOLUTION
    sigma = torch.exp(0.5 * logvar)  # logvar = log sigma^2
    return torch.normal(mu, sigma, generator=generator)
    ### END SOLUTION
