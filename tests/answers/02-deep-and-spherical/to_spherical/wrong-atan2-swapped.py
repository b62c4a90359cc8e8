# wrong: atan2(u1, u2), the arguments swapped
# breaks: test_to_spherical
def to_spherical(u: torch.Tensor) -> torch.Tensor:
    """Angles (theta, phi) (N x 2) of unit vectors u (N x 3): theta = arccos(u3), phi = atan2(u2, u1)."""
    theta = torch.arccos(u[:, 2].clamp(-1.0, 1.0))
    phi = torch.atan2(u[:, 0], u[:, 1])
    return torch.stack([theta, phi], dim=1)
