# alternative: torch.polar for the (x, y) pair as a complex number of length sin(theta) and angle phi
def from_spherical(s: torch.Tensor) -> torch.Tensor:
    """Points (N x 3) on the unit sphere at angles s (N x 2): columns theta (polar angle) and phi (azimuth)."""
    theta, phi = s.unbind(dim=1)
    xy = torch.view_as_real(torch.polar(theta.sin(), phi))  # N x 2: (sin theta cos phi, sin theta sin phi)
    return torch.cat([xy, theta.cos().unsqueeze(1)], dim=1)
