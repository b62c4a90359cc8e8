# alternative: both halves built by one helper from a list of sizes, torch.special.expit for the sigmoid
def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])  # no activation after the last layer


class Autoencoder(nn.Module):
    """A fully connected autoencoder: input_dim -> hidden_dim -> latent_dim -> hidden_dim -> input_dim."""

    def __init__(self, input_dim: int = 784, hidden_dim: int = 200, latent_dim: int = 10, bernoulli: bool = False) -> None:
        super().__init__()
        self.bernoulli = bernoulli
        self.encoder = _mlp([input_dim, hidden_dim, latent_dim])
        self.decoder = _mlp([latent_dim, hidden_dim, input_dim])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.special.expit(self.decoder(z)) if self.bernoulli else self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))
