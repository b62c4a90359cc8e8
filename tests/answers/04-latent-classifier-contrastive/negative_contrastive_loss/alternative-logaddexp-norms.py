# alternative: the similarity divided by the product of norms, logaddexp(0, s / tau)
def negative_contrastive_loss(z: torch.Tensor, z_neg: torch.Tensor, tau: float = 0.5) -> torch.Tensor:
    """Mean over row pairs (z[i], z_neg[i]) of log(1 + exp(cos_sim / tau)), after truncating to equal length."""
    ### BEGIN SOLUTION
    n = min(len(z), len(z_neg))
    if n == 0:
        return z.new_zeros(())
    a, b = z[:n], z_neg[:n]
    similarity = (a * b).sum(dim=1) / (a.norm(dim=1) * b.norm(dim=1))
    return torch.logaddexp(torch.zeros_like(similarity), similarity / tau).mean()
    ### END SOLUTION
