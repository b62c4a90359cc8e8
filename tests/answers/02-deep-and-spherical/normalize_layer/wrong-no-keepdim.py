# wrong: the norm without keepdim=True, so it broadcasts along the wrong axis (and fails unless the batch is square)
class NormalizeLayer(nn.Module):
    """Projects each row of a batch of codes onto the unit sphere: z / ||z||; an all-zero row stays finite."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z / z.norm(dim=1).clamp_min(1e-12)
