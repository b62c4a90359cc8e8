# wrong: draws with the global random numbers and ignores generator, so the noise is not reproducible
# breaks: test_add_mask_noise
def add_mask_noise(x: torch.Tensor, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A copy of x in which each entry is set to 0 independently with probability rate."""
    keep = torch.rand(x.shape, device=x.device) >= rate
    return x * keep
