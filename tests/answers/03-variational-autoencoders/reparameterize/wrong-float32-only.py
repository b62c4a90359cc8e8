# wrong: returns a float32 sample whatever the dtype of mu (the noise is drawn as float32 and cast back)
# breaks: test_reparameterize_generator_device
# keeps: test_reparameterize, test_reparameterize_gradients
def reparameterize(
    mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A sample z ~ N(mu, exp(logvar)) written as mu + eps * sigma, so that gradients reach mu and logvar."""
    ### BEGIN SOLUTION
    sigma = torch.exp(0.5 * logvar)  # logvar = log sigma^2
    eps = torch.randn(mu.shape, generator=generator, device=mu.device)
    return (mu + eps * sigma).float()
    ### END SOLUTION
