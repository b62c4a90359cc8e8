# wrong: forward decodes the mean mu and never samples z
# breaks: test_VAE_forward
class VAE(nn.Module):
    """Encoder q(z|x) = N(mu, diag(exp(logvar))) and decoder p(x|z) = Bernoulli(sigmoid(logits)), both MLPs."""

    def __init__(self, input_dim: int = 784, hidden_dim: int = 400, latent_dim: int = 20) -> None:
        super().__init__()
        ### BEGIN SOLUTION
        self.encoder = nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.ReLU())
        self.to_mu = nn.Linear(hidden_dim, latent_dim)
        self.to_logvar = nn.Linear(hidden_dim, latent_dim)  # log sigma^2: any real number, no activation
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, input_dim)
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
        return self.decode(mu), mu, logvar
        ### END SOLUTION
