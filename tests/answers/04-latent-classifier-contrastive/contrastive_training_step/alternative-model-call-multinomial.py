# alternative: the reconstruction through model(x), the pair drawn with torch.multinomial, classes counted with bincount
def contrastive_training_step(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, tau: float = 0.5, contrastive_weight: float = 0.01
) -> torch.Tensor:
    """Reconstruction MSE plus contrastive_weight times the negative-only loss of two random classes of the batch."""
    ### BEGIN SOLUTION
    loss = ((model(x) - x) ** 2).mean()
    z = model.encoder(x)
    classes = torch.nonzero(torch.bincount(y)).flatten()
    if classes.numel() < 2:  # no negative pair in this batch
        return loss
    pick = torch.multinomial(torch.ones(classes.numel()), 2, replacement=False)
    a, b = classes[pick[0]], classes[pick[1]]
    return loss + contrastive_weight * negative_contrastive_loss(z[y == a], z[y == b], tau)
    ### END SOLUTION
