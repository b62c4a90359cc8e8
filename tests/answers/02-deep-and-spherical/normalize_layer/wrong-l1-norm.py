# wrong: divides by the L1 norm (sum of absolute values) instead of the Euclidean norm
class NormalizeLayer(nn.Module):
    """Projects each row of a batch of codes onto the unit sphere: z / ||z||; an all-zero row stays finite."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z / z.abs().sum(dim=1, keepdim=True).clamp_min(1e-12)
