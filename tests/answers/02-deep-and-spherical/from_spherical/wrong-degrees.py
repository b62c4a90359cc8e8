# wrong: converts the angles from degrees to radians (they are radians already)
def from_spherical(s: torch.Tensor) -> torch.Tensor:
    """Points (N x 3) on the unit sphere at angles s (N x 2): columns theta (polar angle) and phi (azimuth)."""
    theta, phi = torch.deg2rad(s[:, 0]), torch.deg2rad(s[:, 1])
    return torch.stack([theta.sin() * phi.cos(), theta.sin() * phi.sin(), theta.cos()], dim=1)
