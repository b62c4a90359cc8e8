# alternative: named layers in OrderedDicts, ReLU(inplace=True), Tensor.sigmoid() and forward written out
from collections import OrderedDict


class Autoencoder(nn.Module):
    """A fully connected autoencoder: input_dim -> hidden_dim -> latent_dim -> hidden_dim -> input_dim."""

    def __init__(self, input_dim: int = 784, hidden_dim: int = 200, latent_dim: int = 10, bernoulli: bool = False) -> None:
        super().__init__()
        self.bernoulli = bernoulli  # True: sigmoid output (Bernoulli decoder); False: linear output (Gaussian)
        self.encoder = nn.Sequential(OrderedDict([
            ("hidden", nn.Linear(input_dim, hidden_dim)), ("relu", nn.ReLU(inplace=True)),
            ("code", nn.Linear(hidden_dim, latent_dim)),
        ]))
        self.decoder = nn.Sequential(OrderedDict([
            ("hidden", nn.Linear(latent_dim, hidden_dim)), ("relu", nn.ReLU(inplace=True)),
            ("logits", nn.Linear(hidden_dim, input_dim)),
        ]))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        out = self.decoder(z)
        if self.bernoulli:
            out = out.sigmoid()
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encoder(x)
        return self.decode(z)
