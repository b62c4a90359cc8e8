# wrong: zeroes the entries of x in place and returns x itself
# breaks: test_add_mask_noise
def add_mask_noise(x: torch.Tensor, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A copy of x in which each entry is set to 0 independently with probability rate."""
    drop = torch.rand(x.shape, generator=generator, device=x.device) < rate
    x[drop] = 0
    return x
