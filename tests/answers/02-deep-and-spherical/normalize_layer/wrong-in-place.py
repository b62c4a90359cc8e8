# wrong: divides in place (z /= norm), changing the caller's tensor and breaking autograd on a leaf
class NormalizeLayer(nn.Module):
    """Projects each row of a batch of codes onto the unit sphere: z / ||z||; an all-zero row stays finite."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z /= z.norm(dim=1, keepdim=True).clamp_min(1e-12)
        return z
