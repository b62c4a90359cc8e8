# wrong: treats logvar as the standard deviation itself (z = mu + eps * logvar)
# breaks: test_reparameterize, test_reparameterize_gradients
# keeps: test_reparameterize_generator_device
def reparameterize(
    mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A sample z ~ N(mu, exp(logvar)) written as mu + eps * sigma, so that gradients reach mu and logvar."""
    ### BEGIN SOLUTION
    sigma = logvar
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + eps * sigma
    ### END SOLUTION
