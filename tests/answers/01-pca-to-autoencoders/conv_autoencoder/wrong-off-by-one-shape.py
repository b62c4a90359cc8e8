# wrong: transposed convolutions with kernel 3 and stride 2 give 15 x 15, then 29 x 29 images (off by one)
# breaks: test_conv_autoencoder
class ConvAutoencoder(nn.Module):
    """A convolutional autoencoder for 1 x 28 x 28 images with a Bernoulli (sigmoid) output."""

    def __init__(self, latent_dim: int = 10) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 16 x 14 x 14
            nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 7 x 7
            nn.Flatten(), nn.Linear(32 * 7 * 7, latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 32 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (32, 7, 7)),
            nn.ConvTranspose2d(32, 16, kernel_size=3, stride=2), nn.ReLU(),  # 16 x 14 x 14
            nn.ConvTranspose2d(16, 1, kernel_size=3, stride=2),  # 1 x 28 x 28 logits
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The codes z (N x latent_dim) of images x (N x 1 x 28 x 28)."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (N x 1 x 28 x 28) of pixel probabilities: the sigmoid of the decoder's logits."""
        return torch.sigmoid(self.decoder(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x_hat = decode(encode(x))."""
        return self.decode(self.encode(x))
