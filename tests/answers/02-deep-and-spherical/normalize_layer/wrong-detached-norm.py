# wrong: detaches the norm, so the forward values are right but the gradient misses the projection onto the sphere
class NormalizeLayer(nn.Module):
    """Projects each row of a batch of codes onto the unit sphere: z / ||z||; an all-zero row stays finite."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z / z.norm(dim=1, keepdim=True).detach().clamp_min(1e-12)
