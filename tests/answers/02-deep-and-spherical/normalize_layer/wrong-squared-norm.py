# wrong: divides by the squared norm (forgot the square root)
class NormalizeLayer(nn.Module):
    """Projects each row of a batch of codes onto the unit sphere: z / ||z||; an all-zero row stays finite."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z / (z ** 2).sum(dim=1, keepdim=True).clamp_min(1e-12)
