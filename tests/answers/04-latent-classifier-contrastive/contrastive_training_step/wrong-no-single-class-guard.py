# wrong: no case for a batch with a single class (unpacking two classes fails)
# breaks: test_contrastive_training_step
def contrastive_training_step(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, tau: float = 0.5, contrastive_weight: float = 0.01
) -> torch.Tensor:
    """Reconstruction MSE plus contrastive_weight times the negative-only loss of two random classes of the batch."""
    ### BEGIN SOLUTION
    z = model.encoder(x)
    loss = F.mse_loss(model.decoder(z), x)
    classes = torch.unique(y)
    a, b = classes[torch.randperm(len(classes))[:2].to(classes.device)]
    return loss + contrastive_weight * negative_contrastive_loss(z[y == a], z[y == b], tau)
    ### END SOLUTION
