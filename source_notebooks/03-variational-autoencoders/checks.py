"""Hidden checks of assignment 3 (variational autoencoders), judged in the grader's process.

Each test cell's checks repeat its visible asserts and add the hidden cases (see course.checks).
Values are drawn from this run's ``rng`` where any value will do; statistical checks of
the noise use fixed generator seeds, so that a correct answer never fails by chance (their
bounds are 3.5 to 4.5 standard errors, measured on these very draws).
"""
import math

import torch

from course.checks import (
    CheckFailed, State, StudentError, close, expect, expect_number, expect_tensor, generator, map_weights, meta,
)

# stand-ins for other exercises inside a probe, so that one mistake does not cost points twice
STANDIN_REPARAMETERIZE = "lambda mu, logvar, generator=None: mu + torch.exp(0.5 * logvar)"
ZERO_KL = "lambda mu, logvar: torch.zeros(len(mu), device=mu.device)"
EXACT_KL = "lambda mu, logvar: (0.5 * (torch.exp(logvar) + mu ** 2 - 1 - logvar)).sum(dim=1)"
VAE_LAYERS = ("encoder: Linear(input_dim, hidden_dim) and a ReLU, then two linear heads hidden_dim -> latent_dim "
              "(no activation); decoder: Linear(latent_dim, hidden_dim), ReLU, Linear(hidden_dim, input_dim), "
              "returning logits")


def reference_kl(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) per row, from torch.distributions (independent of the answer)."""
    from torch.distributions import Normal, kl_divergence

    return kl_divergence(Normal(mu.double(), torch.exp(0.5 * logvar.double())), Normal(0.0, 1.0)).sum(dim=1)


def kernel_device(kernel) -> str:
    return str(kernel.get("DEVICE")).split(":")[0]


# --- exercise 1: reparameterize ----------------------------------------------------------------

def reparameterize_samples(kernel, ref, rng, refs):
    """Shape and dtype of z; the samples have mean mu and standard deviation sigma."""
    n = 20_000
    mu_row, sigma_row = torch.tensor([0.0, 2.0, -1.0]), torch.tensor([1.0, 2.0, 0.5])
    z = kernel.call("reparameterize", mu_row.expand(n, 3).contiguous(), torch.log(sigma_row**2).expand(n, 3).contiguous(),
                    generator=generator(0), device=True)
    expect_tensor(z, "reparameterize(mu, logvar)", shape=(n, 3), dtype=torch.float32)
    # 20,000 samples: the sample mean is within 4 standard errors (4 * sigma / sqrt(n) <= 0.06) of mu
    expect_tensor(z.mean(dim=0), "the mean of the samples", close_to=mu_row, rtol=0, atol=0.06,
                  hint="z should be mu plus noise with mean 0")
    expect_tensor(z.std(dim=0), "the standard deviation of the samples", close_to=sigma_row, rtol=0.03, atol=0,
                  hint="sigma = exp(0.5 * logvar): logvar is the log of the variance, not the standard deviation")


def reparameterize_noise(kernel, ref, rng, refs):
    """Standard normal noise, independent per entry and per row; mu and logvar left as they were."""
    mu = torch.linspace(-3, 3, 4 * 5000).reshape(5000, 4)
    logvar = torch.linspace(-4, 2, 4 * 5000).reshape(5000, 4)
    reply = kernel.run("reparameterize", mu, logvar, generator=generator(1), device=True)
    z = expect_tensor(reply.value, "reparameterize(mu, logvar)", shape=(5000, 4), dtype=torch.float32)
    expect(not reply.mutated, "reparameterize must not change mu or logvar")
    eps = ((z - mu) / torch.exp(0.5 * logvar)).double()
    expect(abs(eps.mean().item()) < 0.03, "the noise should have mean 0")
    expect(abs(eps.std().item() - 1) < 0.02, "the noise should have standard deviation 1 (sigma = exp(0.5 * logvar))")
    correlation = torch.corrcoef(eps.T)
    expect((correlation - torch.eye(4, dtype=torch.float64)).abs().max() < 0.05,
           "each entry of z needs its own noise: draw eps with the shape of mu")
    expect(abs((eps[:2500] * eps[2500:]).mean().item()) < 0.05, "each row of z needs its own noise")


def reparameterize_generator(kernel, ref, rng, refs):
    """The generator makes the draw reproducible; without one, the global random state is used."""
    mu, logvar = torch.randn(300, 4, generator=rng), torch.randn(300, 4, generator=rng)
    seed = int(torch.randint(0, 2**31, (1,), generator=rng))
    z_a = kernel.call("reparameterize", mu, logvar, generator=generator(seed), device=True)
    z_b = kernel.call("reparameterize", mu, logvar, generator=generator(seed), device=True)
    z_c = kernel.call("reparameterize", mu, logvar, generator=generator(seed + 1), device=True)
    for z in (z_a, z_b, z_c):
        expect_tensor(z, "reparameterize(mu, logvar, generator)", shape=(300, 4))
    message = "draw the noise with the generator you are given"
    expect(torch.equal(z_a, z_b) and not torch.equal(z_a, z_c), message)
    z_d = kernel.call("reparameterize", mu, logvar, seed=3, device=True)
    z_e = kernel.call("reparameterize", mu, logvar, device=True)
    expect_tensor(z_d, "reparameterize(mu, logvar)", shape=(300, 4))
    expect_tensor(z_e, "reparameterize(mu, logvar)", shape=(300, 4))
    expect(not torch.equal(z_d, z_e), "two calls without a generator should draw different noise")


def reparameterize_dtype_and_device(kernel, ref, rng, refs):
    """z on mu's device (a meta tensor stands in for a GPU), float64 in, float64 out."""
    z = kernel.call("reparameterize", torch.zeros(4, 3), torch.zeros(4, 3), generator=generator(1), device=True)
    expect_tensor(z, "reparameterize(mu, logvar, generator)", shape=(4, 3))
    expect(z.course_device == kernel_device(kernel), "z should be on the device of mu")
    z = kernel.call("reparameterize", torch.randn(6, 3, generator=rng).double(), torch.randn(6, 3, generator=rng).double(),
                    generator=generator(2, on_kernel_device=False))
    expect_tensor(z, "reparameterize of float64 tensors", shape=(6, 3), dtype=torch.float64)
    try:
        z_meta = kernel.call("reparameterize", meta(3, 2), meta(3, 2))
    except StudentError as error:
        raise CheckFailed(f"draw eps on mu's device: torch.randn(..., device=mu.device) ({error.kind})") from None
    expect_tensor(z_meta, "reparameterize on another device", shape=(3, 2))
    expect(z_meta.device.type == "meta", "draw eps on mu's device: torch.randn(..., device=mu.device)")


def reparameterize_gradients(kernel, ref, rng, refs):
    """dz/dmu = 1 and dz/dlogvar = (z - mu) / 2: nothing detached."""
    for mu, logvar in ((torch.zeros(5, 4), torch.zeros(5, 4)),
                       (torch.randn(6, 3, generator=rng), torch.randn(6, 3, generator=rng))):
        reply = kernel.gradients("reparameterize", mu, logvar, generator=generator(5), device=True,
                                 hint="no gradient reaches mu and logvar: do not detach them")
        z = expect_tensor(reply.value, "reparameterize(mu, logvar)", shape=tuple(mu.shape))
        d_mu, d_logvar = reply.grads
        expect(d_mu is not None, "no gradient reached mu: do not detach it (no .detach(), .data or torch.no_grad())")
        expect(d_logvar is not None, "no gradient reached logvar: compute sigma from logvar with torch operations")
        expect_tensor(d_mu, "the gradient of z.sum() with respect to mu", close_to=torch.ones_like(mu), atol=1e-6)
        expect_tensor(d_logvar, "the gradient of z.sum() with respect to logvar", close_to=0.5 * (z - mu),
                      rtol=1e-4, atol=1e-6, hint="dz/dlogvar should be (z - mu) / 2: sigma = exp(0.5 * logvar)")


# --- exercise 2: VAE ---------------------------------------------------------------------------

def split_joint_head(state: State, hidden_dim: int, latent_dim: int) -> State:
    """One Linear(hidden_dim, 2 * latent_dim) whose output is cut in two is two heads: seen as two."""
    parameters = []
    for name, tensor in state.parameters:
        if tuple(tensor.shape) in ((2 * latent_dim, hidden_dim), (2 * latent_dim,)):
            parameters += [(f"{name}[first half]", tensor[:latent_dim]), (f"{name}[second half]", tensor[latent_dim:])]
        else:
            parameters.append((name, tensor))
    return State(parameters, state.buffers, state.modules)


def vae_behaves_as_described(kernel, ref, rng, dims):
    """Make VAE(*dims) in the kernel; the reference architecture with its weights must compute what it computes."""
    input_dim, hidden_dim, latent_dim = dims
    model = kernel.new("VAE", input_dim=input_dim, hidden_dim=hidden_dim, latent_dim=latent_dim)
    x = torch.rand(6, input_dim, generator=rng)
    z = torch.randn(8, latent_dim, generator=rng) * 3
    encoded = model.call("encode", x, no_grad=True)
    expect(isinstance(encoded, tuple) and len(encoded) == 2, "encode(x) should return the tuple (mu, logvar)")
    mu, logvar = (expect_tensor(t, name, shape=(6, latent_dim)) for t, name in zip(encoded, ("mu", "logvar")))
    logits = expect_tensor(model.call("decode", z, no_grad=True), "decode(z)", shape=(8, input_dim))
    state = model.state()
    count = sum(t.numel() for _, t in state.parameters)
    expected = (input_dim * hidden_dim + hidden_dim) + 2 * (hidden_dim * latent_dim + latent_dim) \
        + (latent_dim * hidden_dim + hidden_dim) + (hidden_dim * input_dim + input_dim)
    expect(count == expected, f"VAE({input_dim}, {hidden_dim}, {latent_dim}) should have {expected:,} parameters, "
                              f"it has {count:,}: check the layer sizes (nothing hard-coded)")
    same = map_weights(ref.VAE(input_dim, hidden_dim, latent_dim), split_joint_head(state, hidden_dim, latent_dim),
                       lambda r: close(r.encode(x), (mu, logvar)) and close(r.decode(z), logits))
    expect(same is not None, f"the layers do not compute what the exercise asks ({VAE_LAYERS})")
    expect(not close(mu, logvar), "mu and logvar need two different heads")
    if dims == (784, 400, 20):  # 120 codes and 6,272 logits: some are negative whatever the initial weights
        expect(bool((mu < 0).any() and (logvar < 0).any()), "no activation after the heads: mu and logvar can be negative")
        expect(bool((logits < 0).any()), "decode(z) should return logits (any real number), not probabilities: no sigmoid")


def vae_layers(kernel, ref, rng, refs):
    """VAE(784, 400, 20) and VAE(12, 7, 3): the layers, sizes and activations described."""
    for dims in ((784, 400, 20), (12, 7, 3)):
        vae_behaves_as_described(kernel, ref, rng, dims)


def vae_forward(kernel, ref, rng, refs):
    """forward(x) = (decode(z), mu, logvar) with mu, logvar = encode(x) and z = reparameterize(mu, logvar)."""
    model = kernel.new("VAE", input_dim=784, hidden_dim=400, latent_dim=20)
    x = torch.rand(5, 784, generator=rng)
    # forward is graded on its own: the student's reparameterize is swapped for z = mu + sigma meanwhile
    standin = {"reparameterize": STANDIN_REPARAMETERIZE}
    reply = model.run("forward", x, patch=standin, grad={"wrt": [], "params": model.handle.number, "output": 0,
                                                         "reduce": "sum"})
    output = reply.value
    expect(isinstance(output, tuple) and len(output) == 3, "forward(x) should return the tuple (x_hat, mu, logvar)")
    x_hat, mu, logvar = (expect_tensor(t, n, shape=s) for t, n, s in
                         zip(output, ("x_hat", "mu", "logvar"), ((5, 784), (5, 20), (5, 20))))
    mu_ref, logvar_ref = model.call("encode", x, no_grad=True)
    x_hat_ref = model.call("decode", mu_ref + torch.exp(0.5 * logvar_ref), no_grad=True)
    for name, got, want in (("mu", mu, mu_ref), ("logvar", logvar, logvar_ref), ("x_hat", x_hat, x_hat_ref)):
        expect(close(got, want, atol=1e-5), f"forward: {name} is wrong; x_hat should be decode(z) with "
                                            "z = reparameterize(mu, logvar)")
    first_layer = [g for _, g in reply.param_grads if g is not None and tuple(g.shape) == (400, 784)]
    expect(bool(first_layer) and all(float(g.abs().sum()) > 0 for g in first_layer),
           "x_hat should depend on the encoder through z (nothing detached)")


# --- exercise 3: kl_divergence -----------------------------------------------------------------

def kl_values(kernel, ref, rng, refs):
    """One value per sample, zero at the prior, the closed form on the worked and on random examples."""
    kl = kernel.call("kl_divergence", torch.zeros(3, 20), torch.zeros(3, 20))
    expect_tensor(kl, "kl_divergence(mu, logvar)", shape=(3,), close_to=torch.zeros(3), atol=1e-6,
                  hint="the KL divergence of N(0, I) from itself is 0")
    example = kernel.call("kl_divergence", torch.tensor([[1.0, 0.0], [0.0, 0.0]]),
                          torch.tensor([[0.0, 0.0], [math.log(2.0), 0.0]]))
    expect_tensor(example, "kl_divergence on the worked example", shape=(2,),
                  close_to=torch.tensor([0.5, 0.5 * (1 - math.log(2.0))]), rtol=1e-4, atol=1e-5,
                  hint="1/2 (exp(logvar) + mu^2 - 1 - logvar), summed over the latent dimensions")
    for n, d in ((7, 5), (4, 20), (1, 3)):  # n != d catches a sum over the wrong axis
        mu = torch.randn(n, d, generator=rng) * 2
        logvar = torch.rand(n, d, generator=rng) * 6 - 4  # sigma^2 from e^-4 to e^2
        got = kernel.call("kl_divergence", mu, logvar, device=True)
        expect_tensor(got, "kl_divergence(mu, logvar)", shape=(n,), close_to=reference_kl(mu, logvar),
                      rtol=1e-4, atol=1e-4, hint="kl_divergence has wrong values")
        expect(bool((got >= 0).all()), "a KL divergence is never negative")


def kl_gradient(kernel, ref, rng, refs):
    """The KL is differentiable: d KL / d mu = mu and d KL / d logvar = (exp(logvar) - 1) / 2."""
    mu, logvar = torch.randn(3, 4, generator=rng), torch.randn(3, 4, generator=rng)
    reply = kernel.gradients("kl_divergence", mu, logvar, hint="keep the KL a differentiable torch tensor")
    d_mu, d_logvar = reply.grads
    expect(d_mu is not None and d_logvar is not None, "keep the KL a differentiable torch tensor")
    expect_tensor(d_mu, "d KL / d mu", close_to=mu, atol=1e-5)
    expect_tensor(d_logvar, "d KL / d logvar", close_to=0.5 * (torch.exp(logvar) - 1), atol=1e-5)


# --- exercise 4: vae_loss ----------------------------------------------------------------------

def scalar_close(got, expected: float, what: str, hint: str = "") -> None:
    expect_tensor(got, what, shape=(), hint="vae_loss should return a 0-d tensor")
    value = expect_number(got, what)
    expect(abs(value - expected) <= 1e-4 * abs(expected) + 1e-6,
           f"{what} is {value:.6g}, expected {expected:.6g}" + (f": {hint}" if hint else ""))


def vae_loss_bce(kernel, ref, rng, refs):
    """Binary cross-entropy on logits summed over pixels, plus the KL, mean over the batch; differentiable."""
    # the student's kl_divergence is graded in exercise 3: here it is swapped for a stand-in
    x = torch.rand(4, 6, generator=rng)
    zeros = torch.zeros(4, 3)
    loss = kernel.call("vae_loss", torch.zeros(4, 6), x, zeros, zeros, patch={"kl_divergence": ZERO_KL})
    scalar_close(loss, 6 * math.log(2.0), "vae_loss with logits 0 and mu = logvar = 0",
                 "sum the cross-entropy over the pixels of a digit, then take the mean over the batch")
    for n, d, k in ((5, 8, 3), (3, 784, 20)):
        logits = torch.randn(n, d, generator=rng) * 4  # far outside [0, 1]: these are logits
        x = torch.rand(n, d, generator=rng).round()
        x[0] = torch.rand(d, generator=rng)  # grey pixels too
        mu, logvar = torch.randn(n, k, generator=rng), torch.randn(n, k, generator=rng)
        log_p, log_not_p = torch.nn.functional.logsigmoid(logits.double()), torch.nn.functional.logsigmoid(-logits.double())
        reconstruction = -(x.double() * log_p + (1 - x.double()) * log_not_p).sum(dim=1)
        expected = (reconstruction + reference_kl(mu, logvar)).mean().item()
        for kwargs in ({}, {"reconstruction": "bce"}):
            got = kernel.call("vae_loss", logits, x, mu, logvar, device=True, patch={"kl_divergence": EXACT_KL}, **kwargs)
            scalar_close(got, expected, "vae_loss")
        doubled = kernel.call("vae_loss", logits.repeat(2, 1), x.repeat(2, 1), mu.repeat(2, 1), logvar.repeat(2, 1),
                              device=True, patch={"kl_divergence": EXACT_KL})
        scalar_close(doubled, expected, "vae_loss of the same digits twice", "take the mean over the batch, not the sum")
    reply = kernel.gradients("vae_loss", torch.randn(2, 5, generator=rng), torch.rand(2, 5, generator=rng),
                             torch.randn(2, 3, generator=rng), torch.randn(2, 3, generator=rng), wrt=(0, 2, 3),
                             patch={"kl_divergence": EXACT_KL}, hint="the loss must be differentiable in x_hat, mu and logvar")
    expect(all(g is not None for g in reply.grads), "the loss must be differentiable in x_hat, mu and logvar")


def vae_loss_mse(kernel, ref, rng, refs):
    """reconstruction="mse": squared error between sigmoid(x_hat) and x, summed over pixels, mean over the batch."""
    zeros = torch.zeros(4, 3)
    loss = kernel.call("vae_loss", torch.zeros(4, 6), torch.ones(4, 6), zeros, zeros, reconstruction="mse",
                       patch={"kl_divergence": ZERO_KL})
    scalar_close(loss, 1.5, 'vae_loss(..., reconstruction="mse") with logits 0, x = 1 and mu = logvar = 0',
                 "the squared error of sigmoid(x_hat), summed over the pixels of a digit, mean over the batch")
    for n, d, k in ((5, 8, 3), (3, 784, 20)):
        logits = torch.randn(n, d, generator=rng) * 3
        x = torch.rand(n, d, generator=rng)
        mu, logvar = torch.randn(n, k, generator=rng), torch.randn(n, k, generator=rng)
        mean_image = torch.sigmoid(logits.double())
        expected = (((mean_image - x.double()) ** 2).sum(dim=1) + reference_kl(mu, logvar)).mean().item()
        got = kernel.call("vae_loss", logits, x, mu, logvar, reconstruction="mse", device=True,
                          patch={"kl_divergence": EXACT_KL})
        scalar_close(got, expected, 'vae_loss(..., reconstruction="mse")')


CHECKS = {
    "test_reparameterize": [reparameterize_samples, reparameterize_noise],
    "test_reparameterize_generator_device": [reparameterize_generator, reparameterize_dtype_and_device],
    "test_reparameterize_gradients": [reparameterize_gradients],
    "test_VAE": [vae_layers],
    "test_VAE_forward": [vae_forward],
    "test_kl_divergence": [kl_values, kl_gradient],
    "test_vae_loss_bce": [vae_loss_bce],
    "test_vae_loss_mse": [vae_loss_mse],
}
