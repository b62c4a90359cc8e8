# wrong: log(exp(s / tau)) without the 1 + (so just s / tau)
# breaks: test_negative_contrastive_loss
def negative_contrastive_loss(z: torch.Tensor, z_neg: torch.Tensor, tau: float = 0.5) -> torch.Tensor:
    """Mean over row pairs (z[i], z_neg[i]) of log(1 + exp(cos_sim / tau)), after truncating to equal length."""
    ### BEGIN SOLUTION
    n = min(len(z), len(z_neg))
    if n == 0:
        return z.new_zeros(())
    z, z_neg = F.normalize(z[:n], dim=1), F.normalize(z_neg[:n], dim=1)  # truncate first, then compare
    similarity = (z * z_neg).sum(dim=1)  # cosine similarity of each pair
    return torch.log(torch.exp(similarity / tau)).mean()
    ### END SOLUTION
