# wrong: hard-coded to pass the visible tests: zeroes a fixed, regular pattern of entries (not random)
# breaks: test_add_mask_noise
def add_mask_noise(x: torch.Tensor, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A copy of x in which each entry is set to 0 independently with probability rate."""
    index = torch.arange(x.numel(), device=x.device).reshape(x.shape)
    return x * (index % 100 >= rate * 100)
