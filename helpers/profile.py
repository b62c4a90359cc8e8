"""Training budgets: ``quick`` (seconds on a laptop CPU, what grading uses) or ``full`` (the seeds' own schedules).

Every training cell of the notebooks takes its training-set size, epochs, batch size and
learning rate from ``budget(model, device)``; nothing else in a notebook fixes them. The
profile is ``COURSE_PROFILE`` when set, else ``full`` when the notebook computes on a CUDA
GPU and ``quick`` otherwise. While nbgrader grades a notebook (``NBGRADER_EXECUTION`` is
set) it is always ``quick``: the hidden tests' thresholds were measured with that budget.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Mapping

import torch

PROFILES = ("quick", "full")
QUICK_TRAIN_SIZE = 10_000  # quick: at most this many training images, whatever the data set
QUICK_STEPS_REFERENCE = 30 * 4000  # notebooks 3 and 4: 30 passes over the 4,000 offline digits, whatever the size


@dataclass(frozen=True)
class Schedule:
    """How one model trains in one profile, and where the numbers come from."""

    num_epochs: int | None  # None: fixed steps, round(30 * 4000 / training images) epochs
    batch_size: int
    lr: float
    source: str


@dataclass(frozen=True)
class Budget:
    """What a training cell needs: the profile, the training-set size (None: all) and the schedule."""

    model: str
    profile: str
    train_size: int | None
    num_epochs: int
    batch_size: int
    lr: float
    source: str

    def describe(self) -> str:
        """One line for the notebook: which profile and schedule this run uses."""
        size = "all training images" if self.train_size is None else f"at most {self.train_size:,} training images"
        return (f"profile '{self.profile}' ({size}): {self.num_epochs} epochs, batch {self.batch_size}, "
                f"learning rate {self.lr:g} ({self.source})")

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping) -> "Budget":
        return cls(**data)


# model -> profile -> schedule. "quick" is the budget the graded thresholds were measured with;
# "full" is the schedule of the seed notebook each model comes from, on all the training data.
SCHEDULES: dict[str, dict[str, Schedule]] = {
    "mlp_autoencoder": {  # assignment 1, sections 3-5: the 784-200-10 autoencoders, weight penalty included
        "quick": Schedule(20, 64, 1e-3, "quick budget"),
        "full": Schedule(30, 128, 1e-3, "seed 000: 30 epochs, batch 128, Adam 1e-3"),
    },
    "conv_autoencoder": {  # assignment 1, section 6
        "quick": Schedule(5, 64, 3e-3, "quick budget"),
        "full": Schedule(5, 64, 1e-3, "seed 002: 5 epochs, batch 64, Adam 1e-3"),
    },
    "denoising_autoencoder": {  # assignment 1, section 7
        "quick": Schedule(20, 64, 1e-3, "quick budget"),
        "full": Schedule(50, 256, 1e-3, "seed 001: 50 epochs, batch 256, Adam 1e-3"),
    },
    "deep_autoencoder": {  # assignment 2: every model (shallow, deep 2-d and 3-d, sphere)
        "quick": Schedule(20, 128, 2e-3, "quick budget"),
        "full": Schedule(10, 128, 1e-3, "seed 003: 10 epochs, batch 128, Adam 1e-3"),
    },
    "vae": {  # assignment 3: every VAE (KL weights 0.25, 1 and 8)
        "quick": Schedule(None, 128, 1e-3, "quick budget: about 940 steps"),
        "full": Schedule(30, 128, 1e-3, "seed 000: 30 epochs, batch 128, Adam 1e-3"),
    },
    "latent_classifier": {  # assignment 4: the plain and the contrastive autoencoder
        "quick": Schedule(None, 256, 1e-3, "quick budget: about 470 steps"),
        "full": Schedule(500, 1024, 1e-3, "seed 004: 500 epochs, batch 1024, Adam 1e-3"),
    },
}


def active_profile(device: torch.device | str | None = None, env: Mapping[str, str] | None = None) -> str:
    """``quick`` or ``full``: COURSE_PROFILE, else ``full`` on CUDA; always ``quick`` while nbgrader grades."""
    env = os.environ if env is None else env
    if env.get("NBGRADER_EXECUTION"):  # thresholds were measured with the quick budget
        return "quick"
    requested = env.get("COURSE_PROFILE", "").strip().lower()
    if requested:
        if requested not in PROFILES:
            raise ValueError(f"COURSE_PROFILE={requested!r} is not a profile; use quick or full")
        return requested
    return "full" if device is not None and torch.device(device).type == "cuda" else "quick"


def budget(model: str, device: torch.device | str | None = None, n_train: int | None = None,
           env: Mapping[str, str] | None = None) -> Budget:
    """The training budget of ``model`` in the active profile (see ``active_profile``).

    ``n_train`` (the number of training images) is needed where the quick budget is a fixed
    number of steps (``vae``, ``latent_classifier``); without it ``num_epochs`` is for 4,000.
    """
    if model not in SCHEDULES:
        raise ValueError(f"no training budget for {model!r}; known models: {', '.join(sorted(SCHEDULES))}")
    profile = active_profile(device, env)
    schedule = SCHEDULES[model][profile]
    epochs = schedule.num_epochs
    if epochs is None:
        epochs = max(1, round(QUICK_STEPS_REFERENCE / (n_train or 4000)))
    return Budget(model=model, profile=profile, train_size=QUICK_TRAIN_SIZE if profile == "quick" else None,
                  num_epochs=epochs, batch_size=schedule.batch_size, lr=schedule.lr, source=schedule.source)
