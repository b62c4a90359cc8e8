"""Section 1, the training loop: ``helpers.fit`` vs the seed's DataLoader loop, what makes fit faster, seed 004 end to end.

Everything trains seed 004's autoencoder (784-1000-25-50 and back, Adam, MSE) on full-size
data (MNIST when its files are on disk, else Debian's Fashion-MNIST: same shape, same cost).
Per device (the CPU, and CUDA when there is one):

- seed loop vs fit: one epoch each, alternating (``train_loop.time_both``), median ratio;
- variants of fit: larger batch, ``torch.compile``, bf16 autocast, and on CUDA TF32, fused
  Adam and CUDA graphs (``mode="reduce-overhead"``): seconds per epoch once warm, the first
  epoch apart (it pays the compilation), and the test MSE after the same number of epochs
  (a variant only helps if the model is as good);
- seed 004 end to end (batch 1024, 500 epochs): run in full when the best variant makes it
  take under ``--max-e2e-seconds``, else extrapolated from the warm epoch time (and said so).

    python benchmarks/bench_train.py [--quick] [--devices cpu cuda]
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from common import NOT_MEASURED_GPU, machine, save, say  # noqa: I001 (sets sys.path for helpers)

import torch
from torch import nn

import train_loop
from helpers import evaluate, fit, seed_everything
from helpers.data import read_idx

SEED_EPOCHS = 500  # seed 004 trains 500 epochs at batch 1024
SEED_SECONDS_PER_EPOCH = 2.11  # seed 004's own tqdm line: 500/500 [17:37, 2.11 s/it] on its (unnamed) GPU
SEED_FINAL_LOSS = 1.244849e-02  # its training MSE after 500 epochs, on MNIST


@dataclass(frozen=True)
class Variant:
    """One way to run fit; the CUDA-only switches are skipped on other devices."""

    name: str
    batch_size: int = 1024
    compile_mode: str | None = None  # None: eager; "default" or "reduce-overhead" (CUDA graphs)
    autocast: torch.dtype | None = None
    tf32: bool = False
    fused_adam: bool = False
    cuda_only: bool = False


VARIANTS = (
    Variant("fit, batch 1024 (baseline)"),
    Variant("batch 4096", batch_size=4096),
    Variant("bf16 autocast", autocast=torch.bfloat16),
    Variant("torch.compile", compile_mode="default"),
    Variant("TF32 matmuls", tf32=True, cuda_only=True),
    Variant("fused Adam", fused_adam=True),
    Variant("torch.compile + CUDA graphs", compile_mode="reduce-overhead", fused_adam=True, cuda_only=True),
    Variant("all: CUDA graphs + fused Adam + TF32 + bf16", compile_mode="reduce-overhead", fused_adam=True,
            tf32=True, autocast=torch.bfloat16, cuda_only=True),
)


def full_size_data(device: torch.device) -> tuple[str, dict, torch.Tensor, torch.Tensor]:
    """The data set name, its IDX files, and training and test images as flat floats on ``device``."""
    name, files = train_loop.full_size_files()

    def images(split: str) -> torch.Tensor:
        return torch.from_numpy(read_idx(files[split])).to(device, torch.float32).div_(255).reshape(-1, 784)

    return name, files, images("x_train"), images("x_test")


def autocast_step(dtype: torch.dtype | None, device: torch.device):
    """fit's reconstruction step, with the forward pass under autocast when ``dtype`` is set."""
    loss_fn = nn.MSELoss()

    def step(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        context = torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()
        with context:
            output = model(x)
        return loss_fn(output.float(), x)  # the loss in float32: bf16 would round away the small MSE

    return step


@contextlib.contextmanager
def tf32(enabled: bool):
    """TF32 matmuls on for the block only (they change results: opt-in, restored afterwards)."""
    before = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = enabled or before
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = before


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_variant(variant: Variant, x_train: torch.Tensor, x_test: torch.Tensor, device: torch.device,
                  epochs: int) -> dict:
    """Train a fresh seed-004 model for ``epochs`` epochs with ``variant``; per-epoch seconds and the test MSE."""
    seed_everything(0)
    model = train_loop.seed_004_autoencoder().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-8,
                                 **({"fused": True} if variant.fused_adam else {}))
    trained = torch.compile(model, mode=variant.compile_mode) if variant.compile_mode else model
    step = autocast_step(variant.autocast, device)
    seconds = []
    with tf32(variant.tf32):
        for _ in range(epochs):
            start = time.perf_counter()
            history = fit(trained, x_train, nn.MSELoss(), num_epochs=1, batch_size=variant.batch_size,
                          optimizer=optimizer, step=step, progress=False)
            synchronize(device)
            seconds.append(time.perf_counter() - start)
        test_mse = evaluate(model, x_test, nn.MSELoss())
    warm = seconds[1:] or seconds  # the first epoch pays compilation and allocator warm-up
    return {"variant": variant.name, "batch_size": variant.batch_size, "epochs": epochs,
            "first_epoch_s": round(seconds[0], 3), "warm_epoch_s": round(statistics.median(warm), 4),
            "train_loss": round(history["train"][-1], 6), "test_mse": round(test_mse, 6)}


def seed_vs_fit(name: str, files: dict, x_train: torch.Tensor, device: torch.device, repeats: int) -> dict:
    """train_loop's comparison: one epoch of the seed's DataLoader loop and of fit, alternating."""
    with tempfile.TemporaryDirectory() as scratch:
        loader = train_loop.seed_loader(train_loop.torchvision_root(name, files, Path(scratch)), name)
        seed_s, fit_s = train_loop.time_both(loader, x_train, device, repeats)
    return {"seed_loop_s": [round(s, 3) for s in seed_s], "fit_s": [round(s, 3) for s in fit_s],
            "speedup": round(statistics.median(seed_s) / statistics.median(fit_s), 2)}


def end_to_end(best: Variant, x_train: torch.Tensor, x_test: torch.Tensor, device: torch.device,
               warm_epoch_s: float, max_seconds: float) -> dict:
    """Seed 004's 500 epochs with ``best``: run in full when it fits in ``max_seconds``, else extrapolated."""
    estimate = SEED_EPOCHS * warm_epoch_s
    if estimate > max_seconds:
        return {"variant": best.name, "epochs": SEED_EPOCHS, "measured": False,
                "total_s": round(estimate, 1), "per_epoch_s": round(warm_epoch_s, 4),
                "how": f"extrapolated: 500 x the warm epoch time ({warm_epoch_s:.3f} s)"}
    say(f"  seed 004 end to end: {SEED_EPOCHS} epochs with '{best.name}' (about {estimate:.0f} s)")
    start = time.perf_counter()
    result = train_variant(best, x_train, x_test, device, SEED_EPOCHS)
    total = time.perf_counter() - start
    return {"variant": best.name, "epochs": SEED_EPOCHS, "measured": True, "total_s": round(total, 1),
            "per_epoch_s": round(total / SEED_EPOCHS, 4), "train_loss": result["train_loss"],
            "test_mse": result["test_mse"], "how": "measured: 500 epochs run in full"}


def bench_device(device: torch.device, quick: bool, max_e2e_seconds: float, variant_samples: int | None,
                 seed_loop: bool = True, epochs: int | None = None) -> dict:
    """Everything section 1 measures on one device.

    ``variant_samples``: on the CPU the variants train on this many images (all of them see the same
    ones) and their warm epoch time is scaled to the full 60,000: bf16 autocast alone took 3 minutes
    for two full epochs on this CPU (no bf16 instructions), a third of the section.
    """
    name, files, x_train, x_test = full_size_data(device)
    repeats = 1 if quick else 2
    if epochs is None:
        epochs = 2 if quick or device.type == "cpu" else 5  # on a CPU 2 epochs: one warms up, one is timed
    default_threads = torch.get_num_threads()
    comparison = None
    if seed_loop:  # ``seed_loop=False``: the variants alone (a dry run of the GPU kit)
        say(f"section 1 on {device}: seed loop vs fit, {repeats} epoch(s) each, {len(x_train):,} {name} images, "
            f"{default_threads} torch threads")
        comparison = seed_vs_fit(name, files, x_train, device, repeats)
        say(f"  seed loop {comparison['seed_loop_s']} s, fit {comparison['fit_s']} s: {comparison['speedup']}x")
    # On a CPU shared with other jobs, 2 spinning OpenMP threads can cost fit several times its
    # time (trial run: 22-28 s per epoch instead of 3.5 s); one thread per process stays steady.
    # So the comparison is also made with one thread, and the variants use one thread.
    single = device.type == "cpu" and default_threads > 1
    comparison_1 = None
    if single and seed_loop:
        torch.set_num_threads(1)
        say(f"  seed loop vs fit again, 1 torch thread")
        comparison_1 = seed_vs_fit(name, files, x_train, device, repeats)
        say(f"  seed loop {comparison_1['seed_loop_s']} s, fit {comparison_1['fit_s']} s: {comparison_1['speedup']}x")
    reference = comparison_1 or comparison  # the seed loop timed with the variants' thread count
    subset = x_train[:variant_samples] if device.type == "cpu" and variant_samples else x_train
    try:
        variants = run_variants(subset, x_test, device, epochs, quick)
    finally:
        torch.set_num_threads(default_threads)
    measured = [v for v in variants if "warm_epoch_s" in v]
    for v in measured:  # seconds per epoch of all the training images, from the subset's (linear in the samples)
        v["samples"] = len(subset)
        v["warm_epoch_s"] = round(v["warm_epoch_s"] * len(x_train) / len(subset), 4)
    baseline = measured[0]
    for v in measured:
        v["speedup_vs_baseline"] = round(baseline["warm_epoch_s"] / v["warm_epoch_s"], 2)
        v["speedup_vs_seed_loop"] = (round(statistics.median(reference["seed_loop_s"]) / v["warm_epoch_s"], 2)
                                     if reference else None)
    # the fastest batch-1024 variant whose test MSE is within 5 % of the baseline's: seed 004 used batch 1024
    candidates = [v for v in measured if v["batch_size"] == 1024 and v["test_mse"] <= 1.05 * baseline["test_mse"]]
    best = min(candidates, key=lambda v: v["warm_epoch_s"])
    variant = next(v for v in VARIANTS if v.name == best["variant"])
    e2e = end_to_end(variant, x_train, x_test, device, best["warm_epoch_s"], max_e2e_seconds)
    e2e["threads"] = 1 if single else default_threads
    say(f"  seed 004 end to end: {e2e}")
    return {"device": str(device), "data": name, "samples": len(x_train), "threads": default_threads,
            "comparison": comparison, "comparison_1_thread": comparison_1, "variants": variants,
            "variant_epochs": epochs, "variant_threads": 1 if single else default_threads,
            "variant_samples": len(subset), "end_to_end": e2e}


def run_variants(x_train: torch.Tensor, x_test: torch.Tensor, device: torch.device, epochs: int,
                 quick: bool) -> list[dict]:
    """Every variant that applies to ``device``; the others are listed with the reason."""
    variants = []
    for variant in VARIANTS:
        if variant.cuda_only and device.type != "cuda":
            variants.append({"variant": variant.name, "skipped": "CUDA only"})
            continue
        if quick and variant.compile_mode:
            variants.append({"variant": variant.name, "skipped": "--quick"})
            continue
        say(f"  variant '{variant.name}': {epochs} epochs")
        try:
            variants.append(train_variant(variant, x_train, x_test, device, epochs))
        except Exception as error:  # a variant the platform cannot run (no compiler, no bf16 kernel) is a result too
            variants.append({"variant": variant.name, "skipped": f"failed: {type(error).__name__}: {error}"[:200]})
        say(f"    {variants[-1]}")
    return variants


def run(quick: bool = False, devices: list[str] | None = None, max_e2e_seconds: float = 120.0,
        variant_samples: int | None = 20_000) -> dict:
    """Section 1 on the CPU and, when there is one, on CUDA; the GPU row says why when it is missing."""
    result = {"machine": machine(), "quick": quick, "seed_seconds_per_epoch": SEED_SECONDS_PER_EPOCH,
              "seed_epochs": SEED_EPOCHS, "seed_final_loss": SEED_FINAL_LOSS, "devices": {}}
    for name in devices or ["cpu", "cuda"]:
        if name == "cuda" and not torch.cuda.is_available():
            result["devices"]["cuda"] = {"not_measured": NOT_MEASURED_GPU}
            continue
        result["devices"][name] = bench_device(torch.device(name), quick, max_e2e_seconds, variant_samples)
    save("train", result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 repeat, 2 epochs per variant, no torch.compile")
    parser.add_argument("--devices", nargs="+", default=["cpu", "cuda"])
    parser.add_argument("--max-e2e-seconds", type=float, default=120.0,
                        help="run seed 004's 500 epochs in full only if they take less than this")
    parser.add_argument("--variant-samples", type=int, default=20_000,
                        help="on the CPU, time the variants on this many images (0: all)")
    args = parser.parse_args(argv)
    run(args.quick, args.devices, args.max_e2e_seconds, args.variant_samples or None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
