# wrong: draws the noise with randn_like and ignores the generator (draws not reproducible)
# breaks: test_reparameterize_generator_device
# keeps: test_reparameterize, test_reparameterize_gradients
def reparameterize(
    mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A sample z ~ N(mu, exp(logvar)) written as mu + eps * sigma, so that gradients reach mu and logvar."""
    ### BEGIN SOLUTION
    sigma = torch.exp(0.5 * logvar)  # logvar = log sigma^2
    eps = torch.randn_like(mu)
    return mu + eps * sigma
    ### END SOLUTION
