# alternative: fills s.new_empty(N, 3) column by column
def from_spherical(s: torch.Tensor) -> torch.Tensor:
    """Points (N x 3) on the unit sphere at angles s (N x 2): columns theta (polar angle) and phi (azimuth)."""
    out = s.new_empty(s.shape[0], 3)
    sin_theta = torch.sin(s[:, 0])
    out[:, 0] = sin_theta * torch.cos(s[:, 1])
    out[:, 1] = sin_theta * torch.sin(s[:, 1])
    out[:, 2] = torch.cos(s[:, 0])
    return out
