# alternative: Tensor.masked_fill on the entries to drop (random numbers below rate)
def add_mask_noise(x: torch.Tensor, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A copy of x in which each entry is set to 0 independently with probability rate."""
    drop = torch.rand(x.shape, generator=generator, device=x.device) < rate
    return x.masked_fill(drop, 0.0)
