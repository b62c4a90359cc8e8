# wrong: phi = arctan(u2 / u1), which loses the quadrant and divides by 0
def to_spherical(u: torch.Tensor) -> torch.Tensor:
    """Angles (theta, phi) (N x 2) of unit vectors u (N x 3): theta = arccos(u3), phi = atan2(u2, u1)."""
    theta = torch.arccos(u[:, 2].clamp(-1.0, 1.0))
    phi = torch.atan(u[:, 1] / u[:, 0])
    return torch.stack([theta, phi], dim=1)
