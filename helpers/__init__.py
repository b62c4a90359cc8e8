"""Shared tools for the autoencoder course: data, training loop, metrics, figures and test checks.

Importing ``helpers`` is cheap: each name loads its module (and torch,
matplotlib or scikit-learn behind it) the first time it is used, so
``from helpers import load_mnist`` never draws a figure or touches a dataset.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

# public name -> module inside this package that defines it
_EXPORTS = {
    "get_device": "device",
    "seed_everything": "device",
    "bf16_supported": "device",
    "load_mnist": "data",
    "load_fashion_mnist": "data",
    "Splits": "data",
    "DataError": "data",
    "fit": "train",
    "evaluate": "train",
    "reconstruction_step": "train",
    "budget": "profile",
    "active_profile": "profile",
    "Budget": "profile",
    "clustering_accuracy": "metrics",
    "kmeans_accuracy": "metrics",
    "reconstruction_mse": "metrics",
    "count_parameters": "metrics",
    "Unfinished": "grading",
    "show_digits": "plots",
    "show_grid": "plots",
    "plot_reconstructions": "plots",
    "plot_history": "plots",
    "plot_latent": "plots",
    "plot_latent_3d": "plots",
    "plot_decoder_grid": "plots",
    "plot_tsne": "plots",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Load the module that defines ``name`` on first use (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
