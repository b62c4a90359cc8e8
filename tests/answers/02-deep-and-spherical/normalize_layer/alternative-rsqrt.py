# alternative: multiplies by torch.rsqrt of the clamped sum of squares
class NormalizeLayer(nn.Module):
    """Projects each row of a batch of codes onto the unit sphere: z / ||z||; an all-zero row stays finite."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z * torch.rsqrt(z.pow(2).sum(dim=-1, keepdim=True).clamp_min(1e-24))
