# wrong: fills a new float32 tensor, so float64 codes come back as float32
# breaks: test_to_spherical
def to_spherical(u: torch.Tensor) -> torch.Tensor:
    """Angles (theta, phi) (N x 2) of unit vectors u (N x 3): theta = arccos(u3), phi = atan2(u2, u1)."""
    out = torch.empty(len(u), 2, device=u.device)
    out[:, 0] = torch.arccos(u[:, 2].clamp(-1.0, 1.0))
    out[:, 1] = torch.atan2(u[:, 1], u[:, 0])
    return out
