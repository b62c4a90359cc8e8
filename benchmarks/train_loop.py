"""How much faster is ``helpers.fit`` than the seed notebooks' training loop?

The seed material (shared/seeds/004) trains through a torchvision dataset with
``ToTensor`` and a ``DataLoader``: every epoch converts 60,000 PIL images one at a time
in Python. ``fit`` converts the data once, keeps it on the device and draws batches by
index. Both loops train the same autoencoder (seed 004: encoder 784-1000-25-50, mirror
decoder, ReLU, MSE, Adam) for one epoch with batch size 1024 on full-size data (MNIST
when its files are on disk, else Fashion-MNIST from Debian's package, same shape).

    python benchmarks/train_loop.py [--repeats 3] [--out benchmarks/results]

Prints samples per second for each loop and their ratio, and writes them to
``train_loop.md`` and ``train_loop.json`` under ``--out``.
"""
from __future__ import annotations

import argparse
import gzip
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers import fit, get_device, load_fashion_mnist, seed_everything  # noqa: E402
from helpers.data import IDX_FILES, DataError, _idx_files_in, data_root, read_idx  # noqa: E402

BATCH_SIZE = 1024


def seed_004_autoencoder() -> nn.Module:
    """The architecture of seed 004: 784-1000-25-50 encoder, 50-1000-784 decoder, ReLU between layers."""
    encoder = nn.Sequential(nn.Linear(784, 1000), nn.ReLU(), nn.Linear(1000, 25), nn.ReLU(), nn.Linear(25, 50))
    decoder = nn.Sequential(nn.ReLU(), nn.Linear(50, 1000), nn.ReLU(), nn.Linear(1000, 784))
    return nn.Sequential(encoder, decoder)


def full_size_files() -> tuple[str, dict[str, Path]]:
    """The IDX files of full MNIST if present, else Debian's Fashion-MNIST."""
    mnist = _idx_files_in(data_root() / "MNIST" / "raw")
    if mnist:
        return "MNIST", mnist
    try:
        return "FashionMNIST", _idx_files_in(Path(load_fashion_mnist(quiet=True).location))
    except DataError as error:
        sys.exit(f"No full-size data for the benchmark: {error}")


def torchvision_root(name: str, files: dict[str, Path], scratch: Path) -> Path:
    """A folder in torchvision's layout (uncompressed IDX files under <name>/raw) for the seed loop."""
    raw = scratch / name / "raw"
    raw.mkdir(parents=True)
    for split, path in files.items():
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as source, open(raw / IDX_FILES[split], "wb") as target:
            shutil.copyfileobj(source, target)
    return scratch


def seed_loop_epoch(model: nn.Module, loader, optimizer, device: torch.device) -> None:
    """One epoch the way the seed notebook does it (DataLoader over a torchvision dataset)."""
    loss_fn = nn.MSELoss()
    model.train()
    for x, _ in loader:
        x = x.reshape(len(x), -1).to(device)
        loss = loss_fn(model(x), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def seed_loader(root: Path, name: str):
    """The seed notebook's data pipeline: a torchvision dataset with ToTensor, shuffled by a DataLoader."""
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    dataset = getattr(datasets, name)(str(root), train=True, download=False, transform=transforms.ToTensor())
    return DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True)


def timed_epoch(train, device: torch.device) -> float:
    """Seconds for one epoch of ``train(model, optimizer)`` on a fresh model (same seed, same optimizer)."""
    seed_everything(0)
    model = seed_004_autoencoder().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-8)
    start = time.perf_counter()
    train(model, optimizer)
    _synchronize(device)
    return time.perf_counter() - start


def time_both(loader, x_train: torch.Tensor, device: torch.device, repeats: int) -> tuple[list[float], list[float]]:
    """Epoch times of the seed loop and of fit, alternating, so that both see the same machine load."""
    seed_s, fit_s = [], []
    for _ in range(repeats):
        seed_s.append(timed_epoch(lambda model, optimizer: seed_loop_epoch(model, loader, optimizer, device), device))
        fit_s.append(timed_epoch(lambda model, optimizer: fit(
            model, x_train, nn.MSELoss(), num_epochs=1, batch_size=BATCH_SIZE, optimizer=optimizer, progress=False),
            device))
    return seed_s, fit_s


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def report(name: str, n: int, device: torch.device, seed_s: list[float], fit_s: list[float], load_s: float) -> dict:
    seed_median, fit_median = statistics.median(seed_s), statistics.median(fit_s)
    return {
        "data": name, "samples": n, "batch_size": BATCH_SIZE, "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "cpu_threads": torch.get_num_threads(), "torch": torch.__version__,
        "seed_loop_seconds": [round(s, 3) for s in seed_s], "fit_seconds": [round(s, 3) for s in fit_s],
        "fit_preload_seconds": round(load_s, 3),
        "seed_loop_samples_per_s": round(n / seed_median), "fit_samples_per_s": round(n / fit_median),
        "speedup": round(seed_median / fit_median, 2),
    }


def markdown(result: dict) -> str:
    return "\n".join([
        "# Training loop: seed notebook loop vs helpers.fit",
        "",
        f"One epoch of seed 004's autoencoder on {result['samples']:,} {result['data']} images, batch "
        f"{result['batch_size']}, device {result['device']} ({result['device_name']}, "
        f"{result['cpu_threads']} CPU threads), torch {result['torch']}; median of "
        f"{len(result['fit_seconds'])} runs.",
        "",
        "| loop | seconds per epoch (runs) | samples/s |",
        "| --- | --- | --- |",
        f"| seed (torchvision + ToTensor + DataLoader) | {', '.join(map(str, result['seed_loop_seconds']))} "
        f"| {result['seed_loop_samples_per_s']:,} |",
        f"| helpers.fit (tensors on the device) | {', '.join(map(str, result['fit_seconds']))} "
        f"| {result['fit_samples_per_s']:,} |",
        "",
        f"**Speed-up: {result['speedup']}x.** `fit` also pays a one-time {result['fit_preload_seconds']} s to "
        "convert the data set to a tensor on the device (the seed loop pays it every epoch).",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args(argv)

    device = get_device()
    name, files = full_size_files()
    start = time.perf_counter()
    x_train = torch.from_numpy(read_idx(files["x_train"])).to(device, torch.float32).div_(255).reshape(-1, 784)
    load_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as scratch:
        loader = seed_loader(torchvision_root(name, files, Path(scratch)), name)
        seed_s, fit_s = time_both(loader, x_train, device, args.repeats)

    result = report(name, len(x_train), device, seed_s, fit_s, load_s)
    text = markdown(result)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if device.type == "cpu" else f"-{device.type}"
    (args.out / f"train_loop{suffix}.md").write_text(text)
    (args.out / f"train_loop{suffix}.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
