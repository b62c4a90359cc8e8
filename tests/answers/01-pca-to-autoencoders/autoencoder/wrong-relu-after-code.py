# wrong: a ReLU after the encoder's last layer: the codes cannot be negative
# breaks: test_autoencoder
class Autoencoder(nn.Module):
    """A fully connected autoencoder: input_dim -> hidden_dim -> latent_dim -> hidden_dim -> input_dim."""

    def __init__(self, input_dim: int = 784, hidden_dim: int = 200, latent_dim: int = 10, bernoulli: bool = False) -> None:
        super().__init__()
        self.bernoulli = bernoulli  # True: sigmoid output (Bernoulli decoder); False: linear output (Gaussian)
        self.encoder = nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, latent_dim), nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, input_dim))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The codes z (N x latent_dim) of the rows of x (N x input_dim)."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The reconstructions x_hat (N x input_dim) of the codes z: pixel values, or probabilities if bernoulli."""
        logits = self.decoder(z)
        return torch.sigmoid(logits) if self.bernoulli else logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x_hat = decode(encode(x))."""
        return self.decode(self.encode(x))
