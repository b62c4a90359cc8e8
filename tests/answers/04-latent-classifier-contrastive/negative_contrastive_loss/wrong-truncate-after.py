# wrong: compares before truncating to equal length (the seed's bug: a shape error for unequal batches)
# breaks: test_negative_contrastive_loss
def negative_contrastive_loss(z: torch.Tensor, z_neg: torch.Tensor, tau: float = 0.5) -> torch.Tensor:
    """Mean over row pairs (z[i], z_neg[i]) of log(1 + exp(cos_sim / tau)), after truncating to equal length."""
    ### BEGIN SOLUTION
    n = min(len(z), len(z_neg))
    if n == 0:
        return z.new_zeros(())
    similarity = F.cosine_similarity(z, z_neg, dim=1)[:n]
    return F.softplus(similarity / tau).mean()
    ### END SOLUTION
