# wrong: sums the loss over the batch instead of taking the mean
def vae_loss(
    x_hat: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, reconstruction: str = "bce"
) -> torch.Tensor:
    """The negative ELBO averaged over the batch: per digit, reconstruction summed over pixels plus KL."""
    ### BEGIN SOLUTION
    if reconstruction == "bce":  # Bernoulli decoder; x_hat are logits
        per_pixel = F.binary_cross_entropy_with_logits(x_hat, x, reduction="none")
    elif reconstruction == "mse":  # Gaussian decoder with mean sigmoid(x_hat) and variance 1/2
        per_pixel = (torch.sigmoid(x_hat) - x) ** 2
    else:
        raise ValueError(f"reconstruction should be 'bce' or 'mse', not {reconstruction!r}")
    return (per_pixel.sum(dim=1) + kl_divergence(mu, logvar)).sum()
    ### END SOLUTION
