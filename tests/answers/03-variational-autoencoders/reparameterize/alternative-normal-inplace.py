# alternative: fills an empty tensor in place with Tensor.normal_ and uses sqrt(exp(logvar)) for sigma
def reparameterize(
    mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A sample z ~ N(mu, exp(logvar)) written as mu + eps * sigma, so that gradients reach mu and logvar."""
    ### BEGIN SOLUTION
    sigma = torch.exp(logvar).sqrt()
    eps = torch.empty_like(mu).normal_(0.0, 1.0, generator=generator)
    return torch.addcmul(mu, eps, sigma)
    ### END SOLUTION
