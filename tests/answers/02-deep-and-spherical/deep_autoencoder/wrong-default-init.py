# wrong: leaves PyTorch's default initialisation (no Kaiming)
# breaks: test_deep_autoencoder_init
def deep_autoencoder(input_dim: int = 784, latent_dim: int = 2) -> tuple[nn.Sequential, nn.Sequential, nn.Sequential]:
    """The deep autoencoder input_dim -> input_dim // 2 -> 32 * latent_dim -> latent_dim and back, with its halves."""
    hidden = [input_dim // 2, 32 * latent_dim]
    sizes = [input_dim, *hidden, latent_dim, *hidden[::-1], input_dim]
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        linear = nn.Linear(fan_in, fan_out)
        layers += [linear, nn.PReLU()]
    layers[-1] = nn.Sigmoid()  # the output: pixel probabilities
    model = nn.Sequential(*layers)
    return model, model[:6], model[6:]
