# wrong: builds encoder and decoder as two Sequentials and nests them, so model has 2 modules instead of 12
# breaks: test_deep_autoencoder
def deep_autoencoder(input_dim: int = 784, latent_dim: int = 2) -> tuple[nn.Sequential, nn.Sequential, nn.Sequential]:
    """The deep autoencoder input_dim -> input_dim // 2 -> 32 * latent_dim -> latent_dim and back, with its halves."""
    h1, h2 = input_dim // 2, 32 * latent_dim
    encoder = nn.Sequential(nn.Linear(input_dim, h1), nn.PReLU(), nn.Linear(h1, h2), nn.PReLU(), nn.Linear(h2, latent_dim), nn.PReLU())
    decoder = nn.Sequential(nn.Linear(latent_dim, h2), nn.PReLU(), nn.Linear(h2, h1), nn.PReLU(), nn.Linear(h1, input_dim), nn.Sigmoid())
    model = nn.Sequential(encoder, decoder)
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.kaiming_normal_(module.weight)
    return model, encoder, decoder
