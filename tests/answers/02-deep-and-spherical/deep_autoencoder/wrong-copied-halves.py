# wrong: encoder and decoder are deep copies of the model's halves, so training the model leaves them untrained
# breaks: test_deep_autoencoder
import copy


def deep_autoencoder(input_dim: int = 784, latent_dim: int = 2) -> tuple[nn.Sequential, nn.Sequential, nn.Sequential]:
    """The deep autoencoder input_dim -> input_dim // 2 -> 32 * latent_dim -> latent_dim and back, with its halves."""
    hidden = [input_dim // 2, 32 * latent_dim]
    sizes = [input_dim, *hidden, latent_dim, *hidden[::-1], input_dim]
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        linear = nn.Linear(fan_in, fan_out)
        nn.init.kaiming_normal_(linear.weight)
        layers += [linear, nn.PReLU()]
    layers[-1] = nn.Sigmoid()
    model = nn.Sequential(*layers)
    return model, copy.deepcopy(model[:6]), copy.deepcopy(model[6:])
