# alternative: Kaiming written by hand: weights drawn with normal_(0, sqrt(2 / fan_in)) under torch.no_grad()
import math


def deep_autoencoder(input_dim: int = 784, latent_dim: int = 2) -> tuple[nn.Sequential, nn.Sequential, nn.Sequential]:
    """The deep autoencoder input_dim -> input_dim // 2 -> 32 * latent_dim -> latent_dim and back, with its halves."""
    dims = [input_dim, input_dim // 2, 32 * latent_dim, latent_dim, 32 * latent_dim, input_dim // 2, input_dim]
    modules = []
    for i in range(6):
        layer = nn.Linear(dims[i], dims[i + 1])
        with torch.no_grad():
            layer.weight.normal_(0.0, math.sqrt(2.0 / dims[i]))
        modules.append(layer)
        modules.append(nn.PReLU() if i < 5 else nn.Sigmoid())
    model = nn.Sequential(*modules)
    return model, model[0:6], model[6:12]
