# alternative: the Sequentials built from a list of sizes in a loop, forward through self.encoder and self.decoder
class LatentAutoencoder(nn.Module):
    """An MLP autoencoder with a 50-d linear code: 784-1000-25-50 encoder, ReLU-50-1000-784 decoder."""

    def __init__(
        self, input_dim: int = 784, hidden_dim: int = 1000, bottleneck_dim: int = 25, latent_dim: int = 50
    ) -> None:
        super().__init__()
        ### BEGIN SOLUTION
        encoder_sizes = [input_dim, hidden_dim, bottleneck_dim, latent_dim]
        layers = []
        for i, (n_in, n_out) in enumerate(zip(encoder_sizes[:-1], encoder_sizes[1:])):
            if i > 0:
                layers.append(nn.ReLU())
            layers.append(nn.Linear(n_in, n_out))
        self.encoder = nn.Sequential(*layers)
        layers = []
        for n_in, n_out in ((latent_dim, hidden_dim), (hidden_dim, input_dim)):
            layers += [nn.ReLU(), nn.Linear(n_in, n_out)]
        self.decoder = nn.Sequential(*layers)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction x_hat = decoder(encoder(x)), shape N x input_dim."""
        ### BEGIN SOLUTION
        z = self.encoder(x)
        x_hat = self.decoder(z)
        return x_hat
        ### END SOLUTION
