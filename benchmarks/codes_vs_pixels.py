"""When do seed 004's codes beat the pixels? Nearest-centroid accuracy against epochs and training-set size.

Seed 004 reports 87.89 % on its autoencoder's codes against 82.03 % on pixels (91.82 % with
the contrastive term), after 500 epochs at batch 1024 on all 60,000 MNIST digits. This
script trains the same autoencoder (784-1000-25-50 and back, Adam 1e-3 with the seed's
weight decay 1e-8, MSE) with the same schedule on whatever data is given, once plain and
once with the contrastive term, and records at each checkpoint epoch the test accuracy of
the nearest-centroid classifier on the codes, with the accuracy on pixels as the line to
beat. Variants within the seed's spirit (weight decay, the contrastive weight, the code
size) are one flag each. One run per setting (one seed): each line says so.

    python benchmarks/codes_vs_pixels.py --data mnist5k --epochs 500 --checkpoints 10 30 60 100 200 500
    python benchmarks/codes_vs_pixels.py --data fashion-mnist --train-size 15000 --epochs 200

Appends one JSON line per run to results/codes-vs-pixels.jsonl (the report reads it).
"""
from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass, field

from common import RESULTS, machine, say  # noqa: I001 (sets sys.path for helpers)

import torch
import torch.nn.functional as F
from torch import nn

from helpers import fit, load_fashion_mnist, load_mnist, seed_everything

OUT = RESULTS / "codes-vs-pixels.jsonl"


@dataclass(frozen=True)
class Setting:
    """One training run: the data, its size, the schedule and the variant."""

    data: str  # COURSE_DATA: mnist5k, mnist or fashion-mnist
    train_size: int | None
    epochs: int
    batch_size: int = 1024
    contrastive_weight: float = 0.0  # 0: plain autoencoder; seed 004: 0.01
    weight_decay: float = 1e-8  # seed 004's Adam
    latent_dim: int = 50
    checkpoints: tuple[int, ...] = field(default_factory=tuple)
    seed: int = 0

    def label(self) -> str:
        kind = "plain" if not self.contrastive_weight else f"contrastive {self.contrastive_weight:g}"
        extras = [f"wd {self.weight_decay:g}"] if self.weight_decay != 1e-8 else []
        extras += [f"latent {self.latent_dim}"] if self.latent_dim != 50 else []
        extras += [f"batch {self.batch_size}"] if self.batch_size != 1024 else []
        return kind + (" (" + ", ".join(extras) + ")" if extras else "")


class Seed004Autoencoder(nn.Module):
    """Seed 004's autoencoder: 784-1000-25-latent encoder, ReLU-latent-1000-784 decoder."""

    def __init__(self, latent_dim: int = 50) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(784, 1000), nn.ReLU(), nn.Linear(1000, 25), nn.ReLU(),
                                     nn.Linear(25, latent_dim))
        self.decoder = nn.Sequential(nn.ReLU(), nn.Linear(latent_dim, 1000), nn.ReLU(), nn.Linear(1000, 784))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def contrastive_step(weight: float, tau: float = 0.5):
    """Seed 004's step: MSE plus ``weight`` times softplus(cos / tau) between two random classes of the batch."""

    def step(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        z = model.encoder(x)
        loss = F.mse_loss(model.decoder(z), x)
        if not weight:
            return loss
        classes = torch.unique(y)
        if len(classes) < 2:
            return loss
        a, b = classes[torch.randperm(len(classes))[:2].to(classes.device)]
        za, zb = z[y == a], z[y == b]
        n = min(len(za), len(zb))
        similarity = (F.normalize(za[:n], dim=1) * F.normalize(zb[:n], dim=1)).sum(dim=1)
        return loss + weight * F.softplus(similarity / tau).mean()

    return step


@torch.no_grad()
def centroid_accuracy(z_train: torch.Tensor, y_train: torch.Tensor, z_test: torch.Tensor, y_test: torch.Tensor) -> float:
    """Test accuracy of the nearest class centroid, centroids from the training codes (float64)."""
    z_train, z_test = z_train.double(), z_test.double()
    centroids = torch.stack([z_train[y_train == c].mean(dim=0) for c in range(10)])
    return (torch.cdist(z_test, centroids).argmin(dim=1) == y_test).double().mean().item()


def load(data: str, train_size: int | None):
    """Flat images and labels on the CPU, the training set cut to ``train_size`` (a fixed prefix)."""
    if data == "fashion-mnist":
        splits = load_fashion_mnist(flatten=True, quiet=True)
    else:  # load_mnist reads its choice from COURSE_DATA: set it for the call only
        before = os.environ.get("COURSE_DATA")
        os.environ["COURSE_DATA"] = data
        try:
            splits = load_mnist(flatten=True, quiet=True)
        finally:
            os.environ.pop("COURSE_DATA") if before is None else os.environ.__setitem__("COURSE_DATA", before)
    x_train, y_train, x_test, y_test = splits
    return x_train[:train_size], y_train[:train_size], x_test, y_test


def run(setting: Setting) -> dict:
    """Train once, evaluating at every checkpoint epoch; the accuracies, test MSE and seconds per epoch."""
    x_train, y_train, x_test, y_test = load(setting.data, setting.train_size)
    seed_everything(setting.seed)
    model = Seed004Autoencoder(setting.latent_dim)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=setting.weight_decay)
    step = contrastive_step(setting.contrastive_weight)
    checkpoints = sorted(set(setting.checkpoints) | {setting.epochs})
    curve, done, seconds = [], 0, 0.0
    for target in checkpoints:
        start = time.perf_counter()
        fit(model, x_train, nn.MSELoss(), num_epochs=target - done, batch_size=setting.batch_size, optimizer=optimizer,
            y_train=y_train, step=step, progress=False)
        seconds += time.perf_counter() - start
        done = target
        with torch.no_grad():
            model.eval()
            z_train, z_test = model.encoder(x_train), model.encoder(x_test)
            test_mse = F.mse_loss(model(x_test), x_test).item()
            model.train()
        curve.append({"epoch": done, "accuracy": round(centroid_accuracy(z_train, y_train, z_test, y_test), 4),
                      "test_mse": round(test_mse, 5)})
        say(f"  {setting.label()}: epoch {done}: codes {curve[-1]['accuracy']:.2%}, test MSE {test_mse:.4f}")
    return {"setting": asdict(setting), "label": setting.label(), "train_images": len(x_train),
            "pixel_accuracy": round(centroid_accuracy(x_train, y_train, x_test, y_test), 4), "curve": curve,
            "seconds_per_epoch": round(seconds / setting.epochs, 4), "threads": torch.get_num_threads(),
            "cpu": machine()["cpu"], "runs": 1}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="mnist5k", choices=["mnist5k", "mnist", "fashion-mnist"])
    parser.add_argument("--train-size", type=int, default=None, help="training images (default: all)")
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--checkpoints", type=int, nargs="*", default=[10, 30, 60, 100, 200, 300, 500])
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--contrastive-weights", type=float, nargs="+", default=[0.0, 0.01],
                        help="one run per weight; 0 is the plain autoencoder, 0.01 seed 004's")
    parser.add_argument("--weight-decay", type=float, default=1e-8)
    parser.add_argument("--latent-dim", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    for weight in args.contrastive_weights:
        setting = Setting(args.data, args.train_size, args.epochs, args.batch_size, weight, args.weight_decay,
                          args.latent_dim, tuple(c for c in args.checkpoints if c < args.epochs))
        say(f"codes vs pixels: {args.data}, {args.train_size or 'all'} training images, {setting.label()}, "
            f"{args.epochs} epochs")
        result = run(setting)
        with open(args.out, "a") as out:
            out.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
