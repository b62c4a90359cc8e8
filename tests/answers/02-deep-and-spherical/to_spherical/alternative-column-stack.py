# alternative: torch.acos / torch.arctan2 aliases, clamp through torch.clip, torch.column_stack
def to_spherical(u: torch.Tensor) -> torch.Tensor:
    """Angles (theta, phi) (N x 2) of unit vectors u (N x 3): theta = arccos(u3), phi = atan2(u2, u1)."""
    return torch.column_stack((torch.acos(torch.clip(u[:, 2], min=-1, max=1)), torch.arctan2(u[:, 1], u[:, 0])))
