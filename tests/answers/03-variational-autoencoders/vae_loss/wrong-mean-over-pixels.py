# wrong: the default reduction='mean' of the losses: averages over pixels and digits instead of summing per digit
def vae_loss(
    x_hat: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, reconstruction: str = "bce"
) -> torch.Tensor:
    """The negative ELBO averaged over the batch: per digit, reconstruction summed over pixels plus KL."""
    ### BEGIN SOLUTION
    if reconstruction == "bce":  # Bernoulli decoder; x_hat are logits
        reconstruction_term = F.binary_cross_entropy_with_logits(x_hat, x)
    elif reconstruction == "mse":  # Gaussian decoder with mean sigmoid(x_hat) and variance 1/2
        reconstruction_term = F.mse_loss(torch.sigmoid(x_hat), x)
    else:
        raise ValueError(f"reconstruction should be 'bce' or 'mse', not {reconstruction!r}")
    return reconstruction_term + kl_divergence(mu, logvar).mean()
    ### END SOLUTION
