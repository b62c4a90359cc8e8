# wrong: creates the random numbers on the CPU (no device=x.device): fails for x on a GPU
# breaks: test_add_mask_noise
def add_mask_noise(x: torch.Tensor, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A copy of x in which each entry is set to 0 independently with probability rate."""
    keep = torch.rand(x.shape, generator=generator) >= rate
    return x * keep
