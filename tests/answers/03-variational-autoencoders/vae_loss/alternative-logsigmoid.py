# alternative: the cross-entropy written out with logsigmoid, the MSE with F.mse_loss(reduction='none')
def vae_loss(
    x_hat: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, reconstruction: str = "bce"
) -> torch.Tensor:
    """The negative ELBO averaged over the batch: per digit, reconstruction summed over pixels plus KL."""
    ### BEGIN SOLUTION
    if reconstruction == "bce":  # Bernoulli decoder; x_hat are logits
        per_pixel = -(x * F.logsigmoid(x_hat) + (1 - x) * F.logsigmoid(-x_hat))
    elif reconstruction == "mse":  # Gaussian decoder with mean sigmoid(x_hat) and variance 1/2
        per_pixel = F.mse_loss(torch.sigmoid(x_hat), x, reduction="none")
    else:
        raise ValueError(f"reconstruction should be 'bce' or 'mse', not {reconstruction!r}")
    return (per_pixel.sum(dim=1) + kl_divergence(mu, logvar)).mean()
    ### END SOLUTION
