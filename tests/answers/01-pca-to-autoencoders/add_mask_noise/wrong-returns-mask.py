# wrong: returns the float mask of kept entries instead of the masked x
# breaks: test_add_mask_noise
def add_mask_noise(x: torch.Tensor, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A copy of x in which each entry is set to 0 independently with probability rate."""
    return (torch.rand(x.shape, generator=generator, device=x.device) >= rate).to(x.dtype)
