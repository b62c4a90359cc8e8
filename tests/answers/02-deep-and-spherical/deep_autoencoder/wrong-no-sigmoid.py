# wrong: keeps a PReLU as the last module instead of the sigmoid, so outputs are not probabilities
# breaks: test_deep_autoencoder
def deep_autoencoder(input_dim: int = 784, latent_dim: int = 2) -> tuple[nn.Sequential, nn.Sequential, nn.Sequential]:
    """The deep autoencoder input_dim -> input_dim // 2 -> 32 * latent_dim -> latent_dim and back, with its halves."""
    hidden = [input_dim // 2, 32 * latent_dim]
    sizes = [input_dim, *hidden, latent_dim, *hidden[::-1], input_dim]
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        linear = nn.Linear(fan_in, fan_out)
        nn.init.kaiming_normal_(linear.weight)  # N(0, 2 / fan_in): He et al. (2015)
        layers += [linear, nn.PReLU()]
    model = nn.Sequential(*layers)
    return model, model[:6], model[6:]
