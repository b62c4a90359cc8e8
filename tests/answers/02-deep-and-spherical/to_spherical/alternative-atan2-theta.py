# alternative: theta = atan2(sqrt(u1^2 + u2^2), u3), which needs no clamp
def to_spherical(u: torch.Tensor) -> torch.Tensor:
    """Angles (theta, phi) (N x 2) of unit vectors u (N x 3): theta = arccos(u3), phi = atan2(u2, u1)."""
    x, y, z = u.unbind(dim=1)
    return torch.stack([torch.atan2(torch.hypot(x, y), z), torch.atan2(y, x)], dim=-1)
