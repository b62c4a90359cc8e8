# wrong: divides by the norm as it is, so an all-zero row gives 0 / 0 = NaN
class NormalizeLayer(nn.Module):
    """Projects each row of a batch of codes onto the unit sphere: z / ||z||; an all-zero row stays finite."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z / z.norm(dim=1, keepdim=True)
