# alternative: the keep mask drawn with torch.bernoulli (probability 1 - rate) from the generator
def add_mask_noise(x: torch.Tensor, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A copy of x in which each entry is set to 0 independently with probability rate."""
    keep = torch.bernoulli(torch.full_like(x, 1.0 - rate), generator=generator)
    return x * keep
