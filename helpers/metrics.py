"""How good is a representation: clustering accuracy, reconstruction error, model size."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


def to_numpy(values: Any) -> np.ndarray:
    """A NumPy copy of a tensor (any device, with or without gradients), array or list."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def clustering_accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose cluster maps to their class, under the best one-to-one matching.

    Clusters are matched to classes by the Hungarian algorithm on the contingency table
    (Kuhn 1955, ``scipy.optimize.linear_sum_assignment``). With more clusters than classes
    the unmatched clusters count as errors, and with fewer the unmatched classes do.
    """
    from scipy.optimize import linear_sum_assignment

    y_true, y_pred = to_numpy(y_true).ravel(), to_numpy(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}")
    if y_true.size == 0:
        raise ValueError("clustering accuracy of an empty set is undefined")
    _, classes = np.unique(y_true, return_inverse=True)
    _, clusters = np.unique(y_pred, return_inverse=True)
    counts = np.zeros((clusters.max() + 1, classes.max() + 1), dtype=np.int64)
    np.add.at(counts, (clusters, classes), 1)  # counts[k, c]: samples of class c in cluster k
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / y_true.size)


def kmeans_accuracy(z: Any, y: Any, n_clusters: int = 10, seed: int = 0) -> float:
    """Clustering accuracy of k-means (10 restarts, fixed seed) on the rows of ``z`` against labels ``y``."""
    from sklearn.cluster import KMeans

    features = to_numpy(z).reshape(len(z), -1).astype(np.float64)
    predicted = KMeans(n_clusters=n_clusters, n_init=10, random_state=seed).fit_predict(features)
    return clustering_accuracy(y, predicted)


@torch.no_grad()
def reconstruction_mse(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> float:
    """Mean squared error per pixel between ``x`` and ``model(x)`` (its first output if it returns several)."""
    was_training = model.training
    model.eval()
    parameter = next(model.parameters(), None)
    device = x.device if parameter is None else parameter.device
    total = 0.0
    for batch in x.to(device).split(batch_size):
        output = model(batch)
        x_hat = output[0] if isinstance(output, (tuple, list)) else output
        total += torch.sum((x_hat.reshape(batch.shape) - batch) ** 2).item()
    model.train(was_training)
    return total / x.numel()


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of ``model``, shared tensors counted once."""
    unique = {id(p): p for p in model.parameters() if p.requires_grad or not trainable_only}
    return sum(p.numel() for p in unique.values())
