# wrong: treats theta as the latitude: (cos theta cos phi, cos theta sin phi, sin theta)
def from_spherical(s: torch.Tensor) -> torch.Tensor:
    """Points (N x 3) on the unit sphere at angles s (N x 2): columns theta (polar angle) and phi (azimuth)."""
    theta, phi = s[:, 0], s[:, 1]
    return torch.stack([theta.cos() * phi.cos(), theta.cos() * phi.sin(), theta.sin()], dim=1)
