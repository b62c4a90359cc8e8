# wrong: forward returns the code encoder(x) instead of the reconstruction (training crashes)
class LatentAutoencoder(nn.Module):
    """An MLP autoencoder with a 50-d linear code: 784-1000-25-50 encoder, ReLU-50-1000-784 decoder."""

    def __init__(
        self, input_dim: int = 784, hidden_dim: int = 1000, bottleneck_dim: int = 25, latent_dim: int = 50
    ) -> None:
        super().__init__()
        ### BEGIN SOLUTION
        self.encoder = nn.Sequential(
            nn.Linear(input_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, bottleneck_dim), nn.ReLU(),
            nn.Linear(bottleneck_dim, latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.ReLU(), nn.Linear(latent_dim, hidden_dim),
            nn.ReLU(), nn.Linear(hidden_dim, input_dim),
        )
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction x_hat = decoder(encoder(x)), shape N x input_dim."""
        ### BEGIN SOLUTION
        return self.encoder(x)
        ### END SOLUTION
