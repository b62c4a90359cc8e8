# wrong: uses F.dropout, which rescales the kept entries by 1 / (1 - rate), and ignores the generator
# breaks: test_add_mask_noise
def add_mask_noise(x: torch.Tensor, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A copy of x in which each entry is set to 0 independently with probability rate."""
    return F.dropout(x, p=rate, training=True)
