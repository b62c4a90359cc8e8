# alternative: 8 and 16 filters, average pooling, LeakyReLU, and 4 x 4 transposed convolutions with padding 1
class ConvAutoencoder(nn.Module):
    """A convolutional autoencoder for 1 x 28 x 28 images with a Bernoulli (sigmoid) output."""

    def __init__(self, latent_dim: int = 10) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.LeakyReLU(0.1), nn.AvgPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.LeakyReLU(0.1), nn.AvgPool2d(2),
            nn.Flatten(), nn.Linear(16 * 7 * 7, latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 16 * 7 * 7), nn.LeakyReLU(0.1), nn.Unflatten(1, (16, 7, 7)),
            nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1), nn.LeakyReLU(0.1),
            nn.ConvTranspose2d(8, 1, 4, stride=2, padding=1),
        )

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z).sigmoid()

    def forward(self, x):
        return self.decode(self.encode(x))
