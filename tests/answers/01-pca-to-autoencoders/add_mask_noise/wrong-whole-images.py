# wrong: one random number per image (per row): whole images are dropped or kept
# breaks: test_add_mask_noise
def add_mask_noise(x: torch.Tensor, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A copy of x in which each entry is set to 0 independently with probability rate."""
    keep = torch.rand(x.shape[0], *([1] * (x.dim() - 1)), generator=generator, device=x.device) >= rate
    return x * keep
