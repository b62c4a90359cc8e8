# wrong: y = sin(phi), forgetting the factor sin(theta) (right at the visible test points, all on the equator or a pole)
def from_spherical(s: torch.Tensor) -> torch.Tensor:
    """Points (N x 3) on the unit sphere at angles s (N x 2): columns theta (polar angle) and phi (azimuth)."""
    theta, phi = s[:, 0], s[:, 1]
    return torch.stack([theta.sin() * phi.cos(), phi.sin(), theta.cos()], dim=1)
