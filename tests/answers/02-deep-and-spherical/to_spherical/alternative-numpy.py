# alternative: NumPy arccos/arctan2 on a CPU copy, converted back with .to(u)
def to_spherical(u: torch.Tensor) -> torch.Tensor:
    """Angles (theta, phi) (N x 2) of unit vectors u (N x 3): theta = arccos(u3), phi = atan2(u2, u1)."""
    a = u.detach().cpu().numpy()
    angles = np.stack([np.arccos(np.clip(a[:, 2], -1.0, 1.0)), np.arctan2(a[:, 1], a[:, 0])], axis=1)
    return torch.from_numpy(angles).to(u)
