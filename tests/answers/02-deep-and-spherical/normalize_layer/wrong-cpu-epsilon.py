# wrong: the floor is a 1-element tensor made on the CPU (torch.tensor([1e-12])): fails for codes on a GPU
class NormalizeLayer(nn.Module):
    """Projects each row of a batch of codes onto the unit sphere: z / ||z||; an all-zero row stays finite."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z / torch.maximum(z.norm(dim=1, keepdim=True), torch.tensor([1e-12]))
