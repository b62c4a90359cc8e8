# wrong: reads phi from column 0 and theta from column 1
def from_spherical(s: torch.Tensor) -> torch.Tensor:
    """Points (N x 3) on the unit sphere at angles s (N x 2): columns theta (polar angle) and phi (azimuth)."""
    phi, theta = s[:, 0], s[:, 1]
    return torch.stack([theta.sin() * phi.cos(), theta.sin() * phi.sin(), theta.cos()], dim=1)
