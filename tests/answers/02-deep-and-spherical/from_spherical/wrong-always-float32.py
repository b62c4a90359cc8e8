# wrong: fills a new float32 tensor, so float64 angles give float32 points
def from_spherical(s: torch.Tensor) -> torch.Tensor:
    """Points (N x 3) on the unit sphere at angles s (N x 2): columns theta (polar angle) and phi (azimuth)."""
    out = torch.zeros(len(s), 3, device=s.device)
    out[:, 0] = s[:, 0].sin() * s[:, 1].cos()
    out[:, 1] = s[:, 0].sin() * s[:, 1].sin()
    out[:, 2] = s[:, 0].cos()
    return out
