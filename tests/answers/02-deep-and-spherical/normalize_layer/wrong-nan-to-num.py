# wrong: replaces the NaN of a zero row afterwards with torch.nan_to_num: finite output, but NaN gradients
class NormalizeLayer(nn.Module):
    """Projects each row of a batch of codes onto the unit sphere: z / ||z||; an all-zero row stays finite."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.nan_to_num(z / z.norm(dim=1, keepdim=True))
