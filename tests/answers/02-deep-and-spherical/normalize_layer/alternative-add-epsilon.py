# alternative: divides by torch.linalg.vector_norm plus a tiny epsilon instead of a floor
class NormalizeLayer(nn.Module):
    """Projects each row of a batch of codes onto the unit sphere: z / ||z||; an all-zero row stays finite."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z / (torch.linalg.vector_norm(z, ord=2, dim=1, keepdim=True) + 1e-12)
