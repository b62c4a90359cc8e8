# alternative: plain Linear attributes and F.relu in the methods instead of nn.Sequential
class VAE(nn.Module):
    """Encoder q(z|x) = N(mu, diag(exp(logvar))) and decoder p(x|z) = Bernoulli(sigmoid(logits)), both MLPs."""

    def __init__(self, input_dim: int = 784, hidden_dim: int = 400, latent_dim: int = 20) -> None:
        super().__init__()
        ### BEGIN SOLUTION
        self.fc1 = nn.Linear(input_dim, hidden_dim)
        self.fc_mu = nn.Linear(hidden_dim, latent_dim)
        self.fc_logvar = nn.Linear(hidden_dim, latent_dim)
        self.fc3 = nn.Linear(latent_dim, hidden_dim)
        self.fc4 = nn.Linear(hidden_dim, input_dim)
        ### END SOLUTION

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean and log-variance of q(z|x), each of shape N x latent_dim."""
        ### BEGIN SOLUTION
        h = F.relu(self.fc1(x))
        return self.fc_mu(h), self.fc_logvar(h)
        ### END SOLUTION

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The logits of p(x|z), shape N x input_dim (pixel probabilities are their sigmoid)."""
        ### BEGIN SOLUTION
        return self.fc4(F.relu(self.fc3(z)))
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(x_hat, mu, logvar): the logits of the decoded sample z = reparameterize(mu, logvar)."""
        ### BEGIN SOLUTION
        mu, logvar = self.encode(x.view(-1, self.fc1.in_features))
        return self.decode(reparameterize(mu, logvar)), mu, logvar
        ### END SOLUTION
