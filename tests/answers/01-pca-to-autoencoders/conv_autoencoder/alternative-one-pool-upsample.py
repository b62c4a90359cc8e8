# alternative: one convolution block with pooling, view() instead of Flatten, nn.Upsample plus a stride-1 transposed convolution
class ConvAutoencoder(nn.Module):
    """A convolutional autoencoder for 1 x 28 x 28 images with a Bernoulli (sigmoid) output."""

    def __init__(self, latent_dim: int = 10) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(kernel_size=4),  # 32 x 7 x 7
            nn.Flatten(start_dim=1), nn.Linear(32 * 49, latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 32 * 49), nn.ReLU(), nn.Unflatten(1, (32, 7, 7)),
            nn.Upsample(scale_factor=4), nn.ConvTranspose2d(32, 1, kernel_size=3, padding=1),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return F.sigmoid(self.decoder(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))
