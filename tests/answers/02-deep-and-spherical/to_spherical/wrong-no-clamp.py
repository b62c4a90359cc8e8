# wrong: arccos without clamping, NaN for codes a hair off the sphere at the poles
# breaks: test_to_spherical_poles
# keeps: test_to_spherical
def to_spherical(u: torch.Tensor) -> torch.Tensor:
    """Angles (theta, phi) (N x 2) of unit vectors u (N x 3): theta = arccos(u3), phi = atan2(u2, u1)."""
    theta = torch.arccos(u[:, 2])
    phi = torch.atan2(u[:, 1], u[:, 0])
    return torch.stack([theta, phi], dim=1)
