# alternative: torch.where on a uniform draw made with x.new_empty(...).uniform_
def add_mask_noise(x: torch.Tensor, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A copy of x in which each entry is set to 0 independently with probability rate."""
    u = x.new_empty(x.shape).uniform_(0.0, 1.0, generator=generator)
    return torch.where(u < rate, torch.zeros_like(x), x)
