# wrong: the norm over the batch (dim=0), i.e. of each column, instead of each row
class NormalizeLayer(nn.Module):
    """Projects each row of a batch of codes onto the unit sphere: z / ||z||; an all-zero row stays finite."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z / z.norm(dim=0, keepdim=True).clamp_min(1e-12)
