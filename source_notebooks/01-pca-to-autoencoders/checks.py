"""Hidden checks of assignment 1 (PCA to autoencoders), judged in the grader's process.

Each test cell's checks repeat its visible asserts and add the hidden cases (see course.checks).
Inputs are drawn from this run's ``rng`` where any value will do (PCA's inputs get a spectrum
with clear gaps, so that every correct method agrees within the tolerances). Trained models
are judged here, not in the kernel: their weights, placed in the reference architecture
(checked on inputs the kernel also answers), are evaluated on the test images this process
loads itself, against baselines computed once per grading run (``REFERENCES``).
"""
import warnings

import numpy as np
import torch
from torch import nn

from course.checks import (
    CheckFailed, Remote, State, StudentError, close, describe, expect, expect_tensor, generator, map_weights, meta,
)

AE_LAYERS = ("encoder: Linear(input_dim, hidden_dim), ReLU, Linear(hidden_dim, latent_dim); decoder: "
             "Linear(latent_dim, hidden_dim), ReLU, Linear(hidden_dim, input_dim); decode applies a sigmoid "
             "only when bernoulli=True")
TRAINED_RTOL, TRAINED_ATOL = 1e-3, 1e-3  # the kernel's device and the grader's CPU round differently


def check_tensor(value, what: str, shape=None, dtype=None, low: float | None = None, high: float | None = None):
    """helpers.grading.check_tensor, judged here: a finite tensor of this shape, dtype and range."""
    tensor = expect_tensor(value, what, shape=shape, dtype=dtype)
    if tensor.device.type == "meta":
        return tensor
    expect(not tensor.is_floating_point() or bool(torch.isfinite(tensor).all()), f"{what} contains NaN or infinite values")
    if low is not None and tensor.numel():
        expect(tensor.min().item() >= low, f"{what} should be at least {low}, but its smallest value is {tensor.min().item():.4g}")
    if high is not None and tensor.numel():
        expect(tensor.max().item() <= high, f"{what} should be at most {high}, but its largest value is {tensor.max().item():.4g}")
    return tensor


def check_close(value, expected, what: str, rtol: float = 1e-4, atol: float = 1e-5, hint: str = ""):
    """helpers.grading.check_close, judged here."""
    expect_tensor(value, what, shape=tuple(expected.shape))
    error = (value.detach().double() - expected.detach().double()).abs()
    if not torch.allclose(value.double(), expected.double(), rtol=rtol, atol=atol):
        raise CheckFailed(f"{what} has wrong values: the largest difference from the expected values is "
                          f"{error.max().item():.4g}" + (f". {hint}" if hint else ""))


def parameter_count(state: State) -> int:
    return sum(t.numel() for _, t in state.parameters)


def affine_gap(f, a, b) -> float:
    """f(a) + f(b) - f(0) - f(a + b), relative to f(a): 0 for every affine map."""
    fa, fb, f0, fab = f(a), f(b), f(torch.zeros_like(a)), f(a + b)
    for value in (fa, fb, f0, fab):
        expect_tensor(value, "the output", shape=tuple(fa.shape))
    return ((fa + fb - f0 - fab).abs().max() / (1e-6 + fa.abs().max())).item()


def grading_data():
    """The test images and labels the kernels see (this process loads them: COURSE_DATA is set for it)."""
    from helpers.data import load_mnist

    data = load_mnist(flatten=True, quiet=True)
    return data.x_test.cpu(), data.y_test.cpu().numpy()


def kmeans_accuracy(features: np.ndarray, labels: np.ndarray) -> float:
    """k-means with 10 clusters, then the best one-to-one matching of clusters to digits (as the old hidden test)."""
    from scipy.optimize import linear_sum_assignment
    from sklearn.cluster import KMeans

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clusters = KMeans(n_clusters=10, n_init=10, random_state=0).fit_predict(features.astype(np.float64))
    counts = np.zeros((10, 10))
    np.add.at(counts, (clusters, labels), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / len(labels))


# --- baselines computed once per grading run -------------------------------------------------

def pca10_test_mse(ref, rng) -> float:
    """The test MSE per pixel of PCA with 10 components fitted on the test images (float64)."""
    x, _ = grading_data()
    centred = x.double() - x.double().mean(dim=0)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    return ((centred @ vh[:10].T @ vh[:10] - centred) ** 2).mean().item()


def kmeans_pixels_accuracy(ref, rng) -> float:
    """k-means clustering accuracy on the raw pixels of the test images."""
    x, y = grading_data()
    return kmeans_accuracy(x.numpy(), y)


REFERENCES = {"pca10_test_mse": pca10_test_mse, "kmeans_pixels": kmeans_pixels_accuracy}


# --- exercise 1: pca_reconstruct ----------------------------------------------------------------

def pca_reference(x: torch.Tensor, k: int) -> torch.Tensor:
    """PCA in float64 NumPy, independent of the answer."""
    a = x.double().numpy()
    mean = a.mean(axis=0)
    _, _, vt = np.linalg.svd(a - mean, full_matrices=False)
    return torch.from_numpy((a - mean) @ vt[:k].T @ vt[:k] + mean)


def with_spectrum(rng, n: int, d: int, singular_values: list[float], mean: torch.Tensor) -> torch.Tensor:
    """n x d data whose centred singular values are these (each jittered by up to 5 %), around ``mean``."""
    r = len(singular_values)
    u, _ = torch.linalg.qr((lambda a: a - a.mean(dim=0))(torch.randn(n, r, generator=rng, dtype=torch.float64)))
    v, _ = torch.linalg.qr(torch.randn(d, r, generator=rng, dtype=torch.float64))
    s = torch.tensor(singular_values, dtype=torch.float64) * (1 + 0.05 * torch.rand(r, generator=rng, dtype=torch.float64))
    return (u * s @ v.T + mean.double()).float()


def visible_x() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randn(50, 8, generator=g) * torch.tensor([5.0, 4.0, 3.0, 2.0, 1.0, 0.5, 0.2, 0.1]) + 3.0


def pca_visible(kernel, ref, rng, refs):
    """The visible asserts: shape and dtype, exact with all components, and the worked example on a line."""
    x = visible_x()
    check_tensor(kernel.call("pca_reconstruct", x, 2), "pca_reconstruct(x, 2) for x of shape (50, 8)", shape=(50, 8),
                 dtype=torch.float32)
    check_close(kernel.call("pca_reconstruct", x, 8), x, "pca_reconstruct(x, 8)", atol=1e-4,
                hint="with all 8 components nothing is lost: the reconstruction should equal x")
    line = torch.tensor([[11.0, 1.0], [12.0, 3.0], [13.0, 5.0]])
    check_close(kernel.call("pca_reconstruct", line, 1), line, "pca_reconstruct(points on a line, 1)", atol=1e-4,
                hint="did you subtract the mean image before the SVD, and add it back at the end?")


def pca_values(kernel, ref, rng, refs):
    """Equal to an independent PCA: k = 1, 3, 5; uncentred data far from the origin; more dimensions than samples."""
    x = with_spectrum(rng, 50, 8, [35.0, 28.0, 21.0, 14.0, 7.0, 3.5, 1.4, 0.7], torch.full((8,), 3.0))
    for k in (1, 3, 5):
        check_close(kernel.call("pca_reconstruct", x, k), pca_reference(x, k), f"pca_reconstruct(x, {k})",
                    rtol=1e-3, atol=1e-3)
    far = with_spectrum(rng, 30, 6, [3.0, 2.0, 1.4, 1.0, 0.7, 0.5],
                        torch.tensor([40.0, -25.0, 10.0, 0.0, 5.0, 60.0]) + torch.rand(6, generator=rng))
    check_close(kernel.call("pca_reconstruct", far, 2), pca_reference(far, 2), "pca_reconstruct on data far from the origin",
                rtol=1e-3, atol=2e-3)
    wide = with_spectrum(rng, 6, 20, [2.0, 1.3, 0.8, 0.5, 0.3], torch.rand(20, generator=rng) * 0.5 + 0.25)
    check_close(kernel.call("pca_reconstruct", wide, 2), pca_reference(wide, 2), "pca_reconstruct on 6 x 20 data",
                atol=1e-4)


def pca_error_dtype_input(kernel, ref, rng, refs):
    """Eckart-Young (the error is the energy of the dropped singular values); dtype follows x; x left as it was."""
    x = with_spectrum(rng, 50, 8, [35.0, 28.0, 21.0, 14.0, 7.0, 3.5, 1.4, 0.7], torch.full((8,), 3.0))
    reply = kernel.run("pca_reconstruct", x, 3)
    got = check_tensor(reply.value, "pca_reconstruct(x, 3)", shape=(50, 8))
    a = x.double().numpy()
    s = np.linalg.svd(a - a.mean(axis=0), compute_uv=False)
    error = ((got.double() - x.double()) ** 2).sum().item()
    expect(abs(error - (s[3:] ** 2).sum()) <= 1e-3 * (s[3:] ** 2).sum(), "the error of pca_reconstruct(x, 3) is not that of PCA")
    check_tensor(kernel.call("pca_reconstruct", x.double(), 2), "pca_reconstruct of a float64 tensor", shape=(50, 8),
                 dtype=torch.float64)
    expect(not reply.mutated, "pca_reconstruct changed its input x in place")


# --- exercise 2: Autoencoder --------------------------------------------------------------------

def make(kernel, name: str, **kwargs) -> Remote:
    """An instance of the notebook's class ``name``, made in the kernel."""
    return kernel.new(name, **kwargs)


def submodule_names(state: State) -> set[str]:
    return {name for name, _ in state.modules}


def autoencoder_shapes(kernel, ref, rng, refs):
    """The visible asserts: a module with an encoder and a decoder; codes and images of the right shapes."""
    model = make(kernel, "Autoencoder", input_dim=784, hidden_dim=200, latent_dim=10)
    names = submodule_names(model.state())
    for part in ("encoder", "decoder"):
        expect(part in names, f"Autoencoder().{part} should be a torch.nn.Module (an nn.Sequential)")
    x = torch.rand(5, 784, generator=rng)
    z = check_tensor(model.call("encode", x), "encode(x) for 5 images", shape=(5, 10), dtype=torch.float32)
    check_tensor(model.call("decode", z), "decode(z) for 5 codes", shape=(5, 784), dtype=torch.float32)
    check_tensor(model(x), "forward(x) for 5 images", shape=(5, 784), dtype=torch.float32)


def expected_count(d: int, h: int, k: int) -> int:
    """Weights and biases of the four Linear layers."""
    return (d * h + h) + (h * k + k) + (k * h + h) + (h * d + d)


def autoencoder_sizes(kernel, ref, rng, refs):
    """The parameter count of Autoencoder() and Autoencoder(30, 12, 3); the small one's shapes."""
    count = parameter_count(make(kernel, "Autoencoder").state())
    expect(count == expected_count(784, 200, 10),
           f"Autoencoder() has {count:,} parameters, expected {expected_count(784, 200, 10):,}: "
           "check the defaults and the four Linear layers")
    small = make(kernel, "Autoencoder", input_dim=30, hidden_dim=12, latent_dim=3)
    expect(parameter_count(small.state()) == expected_count(30, 12, 3),
           "Autoencoder(30, 12, 3) has the wrong number of parameters")
    x = torch.rand(7, 30, generator=rng)
    check_tensor(small.call("encode", x), "Autoencoder(30, 12, 3).encode(x)", shape=(7, 3))
    check_tensor(small(x), "Autoencoder(30, 12, 3)(x)", shape=(7, 30))


def autoencoder_behaviour(kernel, ref, rng, refs):
    """forward = decode(encode(x)); a linear Gaussian output; unconstrained codes; nonlinear halves; gradients everywhere."""
    model = make(kernel, "Autoencoder", input_dim=784, hidden_dim=200, latent_dim=10)
    x = torch.rand(5, 784, generator=rng)
    z = check_tensor(model.call("encode", x, no_grad=True), "encode(x) for 5 images", shape=(5, 10))
    check_close(model(x, no_grad=True), model.call("decode", z, no_grad=True), "forward(x)",
                hint="forward should be decode(encode(x))")
    z_big = 50 * torch.randn(5, 10, generator=rng)
    out = check_tensor(model.call("decode", z_big, no_grad=True), "decode(z)", shape=(5, 784))
    check_close(out, model.call("decoder", z_big, no_grad=True), "decode(z) of the Gaussian decoder",
                hint="with bernoulli=False, decode returns self.decoder's output unchanged")
    # A linear last layer reaches below 0 and above 1 for codes this large: a sigmoid, ReLU or clamp at the end cannot.
    expect(out.min().item() < 0 and out.max().item() > 1,
           "the Gaussian decoder's last layer should be linear, with no activation: its outputs can be any real number")
    # The codes are unconstrained too: for varied inputs they take both signs (a ReLU at the end of the encoder cannot).
    codes = check_tensor(model.call("encode", torch.randn(64, 784, generator=rng), no_grad=True), "encode(x)", shape=(64, 10))
    expect(codes.min().item() < 0 < codes.max().item(), "the codes should be unconstrained: no activation after the encoder's last layer")
    encode = lambda v: model.call("encode", v, no_grad=True)  # noqa: E731
    decode = lambda v: model.call("decode", v, no_grad=True)  # noqa: E731
    expect(affine_gap(encode, torch.randn(32, 784, generator=rng), torch.randn(32, 784, generator=rng)) > 1e-3,
           "the encoder is linear: put a ReLU after its hidden layer")
    expect(affine_gap(decode, torch.randn(32, 10, generator=rng), torch.randn(32, 10, generator=rng)) > 1e-3,
           "the decoder is linear: put a ReLU after its hidden layer")
    grads = model.param_grads("forward", x)
    expect(bool(grads) and all(g is not None and g.abs().sum().item() > 0 for g in grads.values()),
           "some parameters get no gradient: is a part of the model detached or unused?")


def autoencoder_layers(kernel, ref, rng, refs):
    """The layers described, for Autoencoder(784, 200, 10) and (30, 12, 3): their weights in the solution's
    architecture compute what the student's model computes."""
    for dims in ((784, 200, 10), (30, 12, 3)):
        d, h, k = dims
        model = make(kernel, "Autoencoder", input_dim=d, hidden_dim=h, latent_dim=k)
        x, z = torch.randn(6, d, generator=rng), 3 * torch.randn(6, k, generator=rng)
        codes = model.call("encode", x, no_grad=True)
        images = model.call("decode", z, no_grad=True)
        out = model(x, no_grad=True)
        same = map_weights(ref.Autoencoder(d, h, k), model.state(),
                           lambda r: close(r.encode(x), codes) and close(r.decode(z), images) and close(r(x), out))
        expect(same is not None, f"Autoencoder{dims}: the layers do not compute what the exercise asks ({AE_LAYERS})")


def bernoulli_output(kernel, ref, rng, refs):
    """The visible assert: forward(x) with bernoulli=True has values in [0, 1]."""
    model = make(kernel, "Autoencoder", input_dim=784, hidden_dim=200, latent_dim=10, bernoulli=True)
    check_tensor(model(torch.rand(6, 784, generator=rng)), "forward(x) with bernoulli=True", shape=(6, 784), low=0.0, high=1.0)


def bernoulli_logits(kernel, ref, rng, refs):
    """self.decoder returns logits; decode and forward are their sigmoid; only decode differs from the Gaussian model."""
    model = make(kernel, "Autoencoder", input_dim=784, hidden_dim=200, latent_dim=10, bernoulli=True)
    z = 20 * torch.randn(6, 10, generator=rng)
    logits = check_tensor(model.call("decoder", z, no_grad=True), "self.decoder(z)", shape=(6, 784))
    # Logits are any real numbers: these large codes give some below 0 and some above 1 (not so after a sigmoid or ReLU).
    expect(logits.min().item() < 0 and logits.max().item() > 1,
           "self.decoder should return logits, with no activation after its last layer: keep the sigmoid out of it "
           "and apply it in decode()")
    check_close(model.call("decode", z, no_grad=True), torch.sigmoid(logits), "decode(z) with bernoulli=True",
                hint="decode should return torch.sigmoid(self.decoder(z))")
    x = torch.rand(6, 784, generator=rng)
    codes = check_tensor(model.call("encode", x, no_grad=True), "encode(x)", shape=(6, 10))
    check_close(model(x, no_grad=True), torch.sigmoid(model.call("decoder", codes, no_grad=True)),
                "forward(x) with bernoulli=True")
    small = make(kernel, "Autoencoder", input_dim=30, hidden_dim=12, latent_dim=3, bernoulli=True)
    check_tensor(small(torch.randn(4, 30, generator=rng)), "Autoencoder(30, 12, 3, bernoulli=True)(x)", shape=(4, 30),
                 low=0.0, high=1.0)
    expect(parameter_count(model.state()) == parameter_count(make(kernel, "Autoencoder").state()),
           "the Bernoulli and Gaussian decoders should have the same layers: only decode() differs")


# --- the trained autoencoders --------------------------------------------------------------------

def trained(kernel, name: str, what: str) -> Remote:
    """The notebook's global ``name``, a module of type Autoencoder (the visible assert)."""
    model = kernel.get(name)
    expect(isinstance(model, Remote) and model.type == "Autoencoder",
           f"{name} should be the {what} trained above (an Autoencoder, not {describe(getattr(model, 'handle', model))}): "
           "run the training cells")
    return model


def in_reference(kernel, ref, rng, model: Remote, name: str, bernoulli: bool, decoder_too: bool = True):
    """The trained model's weights in the solution's Autoencoder, checked on inputs the kernel also answers."""
    x, z = torch.rand(8, 784, generator=rng), 3 * torch.randn(8, 10, generator=rng)
    codes = check_tensor(model.call("encode", x, device=True, no_grad=True), f"{name}.encode(x)", shape=(8, 10))
    images = model.call("decode", z, device=True, no_grad=True) if decoder_too else None

    def same(r) -> bool:
        return (close(r.encode(x), codes, TRAINED_RTOL, TRAINED_ATOL)
                and (not decoder_too or close(r.decode(z), images, TRAINED_RTOL, TRAINED_ATOL)))

    copy = map_weights(ref.Autoencoder(784, 200, 10, bernoulli=bernoulli), model.state(), same)
    expect(copy is not None, f"{name} does not compute what an Autoencoder(latent_dim=10{', bernoulli=True' if bernoulli else ''}) "
                             f"with its weights computes ({AE_LAYERS})")
    return copy


def autoencoders_beat_pca(kernel, ref, rng, refs):
    """Both trained autoencoders reconstruct the test images better than PCA with 10 components."""
    # Threshold: the autoencoder's test MSE divided by PCA-10's may be at most 0.85.
    # Measured over 5 seeds (benchmarks/results/thresholds-01-*.md): Gaussian 0.711-0.716, Bernoulli 0.645-0.656
    # on mnist5k; 0.681-0.688 and 0.622-0.640 on Fashion-MNIST.
    models = {name: trained(kernel, name, what) for name, what in
              (("ae_mse", "Gaussian autoencoder"), ("ae_bce", "Bernoulli autoencoder"))}
    x, _ = grading_data()
    for (name, model), bernoulli in zip(models.items(), (False, True)):
        copy = in_reference(kernel, ref, rng, model, name, bernoulli)
        with torch.no_grad():
            z = copy.encode(x)  # the decoder works from the codes alone
            ratio = ((copy.decode(z).double() - x.double()) ** 2).mean().item() / refs["pca10_test_mse"]
        expect(ratio <= 0.85, f"{name}: its test error is {ratio:.2f} times PCA's with 10 components; a working "
                              "autoencoder trained as above reaches at most 0.85")


def codes_cluster(kernel, ref, rng, refs):
    """k-means finds the digits in the trained Bernoulli autoencoder's codes about as well as in the raw pixels."""
    # Threshold: clustering accuracy on the codes at least 0.8 times that on the raw pixels of the
    # test images (results["kmeans_ae_over_pixels"]), measured over 5 seeds (benchmarks/results/thresholds-01-*.md):
    # 0.916-0.982 on mnist5k, 1.023-1.085 on Fashion-MNIST.
    model = trained(kernel, "ae_bce", "Bernoulli autoencoder")
    copy = in_reference(kernel, ref, rng, model, "ae_bce", bernoulli=True, decoder_too=False)
    x, y = grading_data()
    with torch.no_grad():
        codes = copy.encode(x)
    latent, pixels = kmeans_accuracy(codes.numpy(), y), refs["kmeans_pixels"]
    expect(latent >= 0.8 * pixels, f"k-means accuracy on the codes is {latent:.1%}, on the raw pixels {pixels:.1%}: "
                                   "the codes of a working autoencoder keep more of the digits' identity")


# --- exercise 3: ConvAutoencoder ---------------------------------------------------------------

IMAGE = (1, 28, 28)
CONV2D, CONV_TRANSPOSE2D = "torch.nn.modules.conv.Conv2d", "torch.nn.modules.conv.ConvTranspose2d"


def conv_shapes(kernel, ref, rng, refs):
    """The visible asserts: codes of size 10, images 1 x 28 x 28 in [0, 1]."""
    model = make(kernel, "ConvAutoencoder", latent_dim=10)
    x = torch.rand(2, *IMAGE, generator=rng)
    check_tensor(model.call("encode", x), "encode(x) for 2 images", shape=(2, 10), dtype=torch.float32)
    check_tensor(model(x), "forward(x) for 2 images", shape=(2, *IMAGE), low=0.0, high=1.0)


def conv_codes_and_logits(kernel, ref, rng, refs):
    """Codes of size latent_dim that take both signs; self.decoder's logits, decode = their sigmoid, forward = decode(encode)."""
    small = make(kernel, "ConvAutoencoder", latent_dim=3)
    x5 = torch.rand(5, *IMAGE, generator=rng)
    check_tensor(small.call("encode", x5), "ConvAutoencoder(latent_dim=3).encode(x)", shape=(5, 3))
    check_tensor(small(x5[:1]), "ConvAutoencoder(latent_dim=3) on one image", shape=(1, *IMAGE), low=0.0, high=1.0)
    default = make(kernel, "ConvAutoencoder")
    check_tensor(default.call("encode", x5), "ConvAutoencoder() codes", shape=(5, 10))
    codes = check_tensor(default.call("encode", torch.randn(32, *IMAGE, generator=rng), no_grad=True), "ConvAutoencoder() codes",
                         shape=(32, 10))
    # unconstrained codes take both signs for varied inputs (not so after a ReLU)
    expect(codes.min().item() < 0 < codes.max().item(), "the codes should be unconstrained: no activation after the encoder's last layer")
    z = 20 * torch.randn(5, 3, generator=rng)
    logits = check_tensor(small.call("decoder", z, no_grad=True), "self.decoder(z)", shape=(5, *IMAGE))
    # Logits are any real numbers: these large codes give some below 0 and some above 1 (not so after a sigmoid or ReLU).
    expect(logits.min().item() < 0 and logits.max().item() > 1,
           "self.decoder should return logits, with no activation after its last layer: keep the sigmoid out of it "
           "and apply it in decode()")
    check_close(small.call("decode", z, no_grad=True), torch.sigmoid(logits), "decode(z)",
                hint="decode should return torch.sigmoid(self.decoder(z))")
    own_codes = check_tensor(small.call("encode", x5, no_grad=True), "encode(x)", shape=(5, 3))
    check_close(small(x5, no_grad=True), small.call("decode", own_codes, no_grad=True), "forward(x)",
                hint="forward should be decode(encode(x))")
    grads = small.param_grads("forward", x5)
    expect(bool(grads) and all(g is not None and g.abs().sum().item() > 0 for g in grads.values()),
           "some parameters get no gradient: is a part of the model detached or unused?")


def layers_in_use(model: Remote, state: State, part: str, kind: str, method: str, x: torch.Tensor) -> bool:
    """Whether ``part`` holds a layer of type ``kind`` whose weights change what ``method`` computes."""
    layers = {name for name, type_ in state.modules if type_ == kind and name.startswith(part + ".")}
    if not layers:
        return False
    before = model.call(method, x, no_grad=True)
    tensors = [torch.zeros_like(t) if name.rsplit(".", 1)[0] in layers else t for name, t in state.parameters]
    if not model.load(tensors):
        return False
    after = model.call(method, x, no_grad=True)
    return not close(before, after, rtol=0, atol=1e-7)


def conv_layers(kernel, ref, rng, refs):
    """Convolutions in the encoder, transposed convolutions in the decoder, each in use; pooling in the encoder."""
    model = make(kernel, "ConvAutoencoder")
    state = model.state()
    encoder_types = {t for n, t in state.modules if n == "encoder" or n.startswith("encoder.")}
    expect(CONV2D in encoder_types and layers_in_use(model, state, "encoder", CONV2D, "encode", torch.rand(4, *IMAGE, generator=rng)),
           "self.encoder should contain nn.Conv2d layers")
    state = model.state()
    expect(CONV_TRANSPOSE2D in {t for n, t in state.modules if n.startswith("decoder.")}
           and layers_in_use(model, state, "decoder", CONV_TRANSPOSE2D, "decode", torch.randn(4, 10, generator=rng)),
           "self.decoder should contain nn.ConvTranspose2d layers")
    expect(any(t.startswith("torch.nn.modules.pooling.") for t in encoder_types),
           "self.encoder should contain a pooling layer such as nn.MaxPool2d")


def conv_nonlinear(kernel, ref, rng, refs):
    """Neither half is an affine map."""
    model = make(kernel, "ConvAutoencoder")
    encoder = lambda v: model.call("encoder", v, no_grad=True)  # noqa: E731
    decoder = lambda v: model.call("decoder", v, no_grad=True)  # noqa: E731
    expect(affine_gap(encoder, torch.randn(8, *IMAGE, generator=rng), torch.randn(8, *IMAGE, generator=rng)) > 1e-3,
           "the encoder is linear: put activations between its layers")
    expect(affine_gap(decoder, torch.randn(8, 10, generator=rng), torch.randn(8, 10, generator=rng)) > 1e-3,
           "the decoder is linear: put activations between its layers")


# --- exercise 4: add_mask_noise ------------------------------------------------------------------

def noise(kernel, *args, **options):
    return kernel.run("add_mask_noise", *args, **options)


def draw_seed(rng) -> int:
    return int(torch.randint(0, 2**31 - 1, (1,), generator=rng))


def mask_visible(kernel, ref, rng, refs):
    """The visible asserts: entries 0 or unchanged; rate 0 changes nothing; rate 1 zeroes everything."""
    x = torch.rand(4, 784, generator=rng) + 0.5  # no zeros to start with
    noisy = check_tensor(kernel.call("add_mask_noise", x, 0.5, generator(draw_seed(rng), on_kernel_device=False)),
                         "add_mask_noise(x, 0.5)", shape=(4, 784), dtype=torch.float32)
    expect(bool(((noisy == 0) | (noisy == x)).all()), "every entry should be either 0 or its original value (no rescaling)")
    same = expect_tensor(kernel.call("add_mask_noise", x, 0.0), "add_mask_noise(x, 0.0)")
    expect(torch.equal(same, x), "with rate 0 nothing should change")
    zeroed = expect_tensor(kernel.call("add_mask_noise", x, 1.0), "add_mask_noise(x, 1.0)", shape=(4, 784))
    expect(bool((zeroed == 0).all()), "with rate 1 every entry should be 0")


def mask_statistics(kernel, ref, rng, refs):
    """About `rate` of the entries zeroed, independently: not whole images, not the same pixels in every image."""
    ones = torch.ones(200, 500)
    for rate in (0.3, 0.7):
        out = check_tensor(kernel.call("add_mask_noise", ones, rate, generator(draw_seed(rng), on_kernel_device=False)),
                           f"add_mask_noise(x, {rate})", shape=(200, 500))
        mask = (out == 0).float()
        fraction = mask.mean().item()  # 100,000 draws: standard deviation below 0.0015
        expect(abs(fraction - rate) < 0.01, f"with rate {rate}, {fraction:.3f} of the entries were zeroed")
        # 500 draws per image (standard deviation 0.021 at most) and 200 per pixel (0.033 at most): 7 of them or more
        per_image, per_pixel = mask.mean(dim=1), mask.mean(dim=0)
        expect(bool(((per_image - rate).abs() < 0.15).all()) and bool(((per_pixel - rate).abs() < 0.25).all()),
               "each entry should be zeroed independently: not whole images, and not the same pixels in every image")


def mask_generator_and_input(kernel, ref, rng, refs):
    """Reproducible with a generator; the input left as it was; any shape; dtype and device follow x."""
    x = torch.rand(4, 784, generator=rng) + 0.5
    seed = draw_seed(rng)
    a = noise(kernel, x, 0.5, generator(seed, on_kernel_device=False)).value
    b = noise(kernel, x, 0.5, generator(seed, on_kernel_device=False), advance=100).value  # global numbers moved on
    c = noise(kernel, x, 0.5, generator(seed + 1, on_kernel_device=False)).value
    for value in (a, b, c):
        expect_tensor(value, "add_mask_noise(x, 0.5, generator)", shape=(4, 784))
    expect(torch.equal(a, b), "the same generator seed should give the same noise: draw the random numbers with `generator`")
    expect(not torch.equal(a, c), "different seeds should give different noise")
    expect(not noise(kernel, x, 0.5).mutated, "add_mask_noise changed its input x in place")
    images = check_tensor(kernel.call("add_mask_noise", torch.rand(3, *IMAGE, generator=rng) + 0.5, 0.5),
                          "add_mask_noise on images 3 x 1 x 28 x 28", shape=(3, *IMAGE))
    expect(0.3 < (images == 0).float().mean().item() < 0.7, "add_mask_noise should work for tensors of any shape")
    check_tensor(kernel.call("add_mask_noise", x.double(), 0.5), "add_mask_noise of a float64 tensor", shape=(4, 784),
                 dtype=torch.float64)
    # PyTorch's "meta" device stands in for a GPU here: random numbers made on the CPU do not mix with x on another device.
    hint = ("add_mask_noise fails for x on another device than the CPU (a GPU): draw the random numbers on x's device, "
            "torch.rand(..., device=x.device)")
    try:
        elsewhere = kernel.call("add_mask_noise", meta(3, 5), 0.5)
    except StudentError:
        raise CheckFailed(hint) from None
    expect(isinstance(elsewhere, torch.Tensor) and elsewhere.device.type == "meta" and tuple(elsewhere.shape) == (3, 5),
           "add_mask_noise should return a tensor on x's device")


def denoiser_architecture() -> nn.Module:
    """The given training cell's denoiser (section 3's layers written out), with its sigmoid: ``dae``."""
    return nn.Sequential(nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 10),
                                       nn.Linear(10, 200), nn.ReLU(), nn.Linear(200, 784)), nn.Sigmoid())


def denoiser_removes_noise(kernel, ref, rng, refs):
    """The trained denoiser's output is much closer to the clean test images than the noisy input is."""
    # Threshold: MSE(denoised, clean) / MSE(noisy, clean) at most 0.6 at rate 0.5,
    # measured over 5 seeds (benchmarks/results/thresholds-01-*.md): 0.460-0.477 on mnist5k, 0.175-0.176 on
    # Fashion-MNIST. The noise is drawn here, independently (the fixed seed those runs used).
    dae = kernel.get("dae")
    expect(isinstance(dae, Remote), "dae should be the denoising autoencoder trained above")
    probe = torch.rand(8, 784, generator=rng) * (torch.rand(8, 784, generator=rng) >= 0.5)
    out = dae(probe, device=True, no_grad=True)
    copy = map_weights(denoiser_architecture(), dae.state(), lambda r: close(r(probe), out, TRAINED_RTOL, TRAINED_ATOL))
    expect(copy is not None, "dae should be the denoising autoencoder trained above, as the training cell builds it")
    x, _ = grading_data()
    keep = torch.rand(x.shape, generator=torch.Generator().manual_seed(2024)) >= 0.5
    noisy = x * keep
    with torch.no_grad():
        denoised = copy(noisy)
    ratio = ((denoised - x) ** 2).mean().item() / ((noisy - x) ** 2).mean().item()
    expect(ratio <= 0.6, f"the denoiser's error is {ratio:.2f} times that of the noisy input; trained as above it should be "
                         "at most 0.6")


CHECKS = {
    "test_pca_reconstruct": [pca_visible, pca_values, pca_error_dtype_input],
    "test_autoencoder": [autoencoder_shapes, autoencoder_sizes, autoencoder_behaviour, autoencoder_layers],
    "test_autoencoder_bernoulli": [bernoulli_output, bernoulli_logits],
    "test_autoencoder_vs_pca": [autoencoders_beat_pca],
    "test_autoencoder_kmeans": [codes_cluster],
    "test_conv_autoencoder": [conv_shapes, conv_codes_and_logits],
    "test_conv_autoencoder_layers": [conv_layers, conv_nonlinear],
    "test_add_mask_noise": [mask_visible, mask_statistics, mask_generator_and_input],
    "test_add_mask_noise_denoiser": [denoiser_removes_noise],
}
