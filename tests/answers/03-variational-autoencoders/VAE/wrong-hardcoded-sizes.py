# wrong: the layer sizes are hard-coded to 784/400/20 and ignore the constructor's arguments
# breaks: test_VAE
class VAE(nn.Module):
    """Encoder q(z|x) = N(mu, diag(exp(logvar))) and decoder p(x|z) = Bernoulli(sigmoid(logits)), both MLPs."""

    def __init__(self, input_dim: int = 784, hidden_dim: int = 400, latent_dim: int = 20) -> None:
        super().__init__()
        ### BEGIN SOLUTION
        self.encoder = nn.Sequential(nn.Linear(784, 400), nn.ReLU())
        self.to_mu = nn.Linear(400, 20)
        self.to_logvar = nn.Linear(400, 20)  # log sigma^2: any real number, no activation
        self.decoder = nn.Sequential(
            nn.Linear(20, 400), nn.ReLU(), nn.Linear(400, 784)
        )
        ### END SOLUTION

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean and log-variance of q(z|x), each of shape N x latent_dim."""
        ### BEGIN SOLUTION
        h = self.encoder(x)
        return self.to_mu(h), self.to_logvar(h)
        ### END SOLUTION

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The logits of p(x|z), shape N x input_dim (pixel probabilities are their sigmoid)."""
        ### BEGIN SOLUTION
        return self.decoder(z)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(x_hat, mu, logvar): the logits of the decoded sample z = reparameterize(mu, logvar)."""
        ### BEGIN SOLUTION
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar)
        return self.decode(z), mu, logvar
        ### END SOLUTION
