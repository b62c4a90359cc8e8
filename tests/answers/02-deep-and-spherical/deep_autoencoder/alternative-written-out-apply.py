# alternative: the 12 modules written out, Kaiming applied afterwards with model.apply
def deep_autoencoder(input_dim: int = 784, latent_dim: int = 2) -> tuple[nn.Sequential, nn.Sequential, nn.Sequential]:
    """The deep autoencoder input_dim -> input_dim // 2 -> 32 * latent_dim -> latent_dim and back, with its halves."""
    h1, h2 = input_dim // 2, 32 * latent_dim
    model = nn.Sequential(
        nn.Linear(input_dim, h1), nn.PReLU(),
        nn.Linear(h1, h2), nn.PReLU(),
        nn.Linear(h2, latent_dim), nn.PReLU(),
        nn.Linear(latent_dim, h2), nn.PReLU(),
        nn.Linear(h2, h1), nn.PReLU(),
        nn.Linear(h1, input_dim), nn.Sigmoid(),
    )

    def init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")

    model.apply(init)
    encoder, decoder = model[:6], model[6:]
    return model, encoder, decoder
