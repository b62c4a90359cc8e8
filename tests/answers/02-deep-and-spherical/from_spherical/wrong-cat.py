# wrong: torch.cat of the three coordinates, one long vector of 3N numbers
def from_spherical(s: torch.Tensor) -> torch.Tensor:
    """Points (N x 3) on the unit sphere at angles s (N x 2): columns theta (polar angle) and phi (azimuth)."""
    theta, phi = s[:, 0], s[:, 1]
    return torch.cat([theta.sin() * phi.cos(), theta.sin() * phi.sin(), theta.cos()])
