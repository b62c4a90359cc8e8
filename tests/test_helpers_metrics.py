"""Clustering accuracy, k-means on a representation, reconstruction error, parameter counts."""
import numpy as np
import pytest
import torch
from torch import nn

from helpers import clustering_accuracy, count_parameters, kmeans_accuracy, reconstruction_mse


@pytest.mark.parametrize("seed", range(5))
def test_clustering_accuracy_is_one_for_any_relabelling(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 10, size=500)
    relabel = rng.permutation(10) + 100 * seed  # any ids, not only 0-9
    assert clustering_accuracy(y_true, relabel[y_true]) == 1.0


def test_clustering_accuracy_matches_a_hand_computed_contingency_table():
    # cluster 0 = {a, a, b}, cluster 1 = {b, b, c}, cluster 2 = {c}
    y_true = np.array([0, 0, 1, 1, 1, 2, 2])
    y_pred = np.array([0, 0, 0, 1, 1, 1, 2])
    # best matching: cluster 0 -> class 0 (2), cluster 1 -> class 1 (2), cluster 2 -> class 2 (1)
    assert clustering_accuracy(y_true, y_pred) == pytest.approx(5 / 7)


def test_clustering_accuracy_with_more_clusters_than_classes_counts_unmatched_clusters_as_errors():
    y_true = np.array([0, 0, 0, 1, 1, 1])
    y_pred = np.array([0, 0, 2, 1, 1, 3])  # two extra singleton clusters
    assert clustering_accuracy(y_true, y_pred) == pytest.approx(4 / 6)


def test_clustering_accuracy_with_fewer_clusters_than_classes():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.zeros(6, dtype=int)  # everything in one cluster
    assert clustering_accuracy(y_true, y_pred) == pytest.approx(2 / 6)


def test_clustering_accuracy_accepts_tensors_and_rejects_mismatched_lengths():
    y = torch.tensor([1, 2, 3])
    assert clustering_accuracy(y, y) == 1.0
    with pytest.raises(ValueError, match="labels"):
        clustering_accuracy([0, 1], [0])


def test_kmeans_accuracy_finds_well_separated_clusters():
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=20, size=(10, 5))
    y = np.repeat(np.arange(10), 30)
    z = centers[y] + rng.normal(size=(300, 5))
    assert kmeans_accuracy(torch.tensor(z, dtype=torch.float32), torch.tensor(y)) == 1.0


def test_kmeans_accuracy_is_chance_level_on_noise():
    rng = np.random.default_rng(1)
    accuracy = kmeans_accuracy(rng.normal(size=(1000, 5)), rng.integers(0, 10, size=1000))
    assert 0.1 <= accuracy < 0.2  # the matching alone lifts pure chance (0.1) a little


def test_reconstruction_mse_of_identity_is_zero_and_of_zero_model_is_mean_square():
    x = torch.rand(50, 784)
    assert reconstruction_mse(nn.Identity(), x) == 0.0

    class Zero(nn.Module):
        def forward(self, x):
            return torch.zeros_like(x), None  # a VAE-like tuple: the first output is used

    assert reconstruction_mse(Zero(), x, batch_size=7) == pytest.approx((x**2).mean().item(), rel=1e-5)


def test_count_parameters_counts_trainable_parameters_once():
    shared = nn.Linear(10, 5)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert count_parameters(nn.Linear(10, 5)) == 55
    assert count_parameters(model) == 55  # the same layer twice is one set of weights
    frozen = nn.Linear(3, 3)
    frozen.weight.requires_grad_(False)
    assert count_parameters(frozen) == 3
    assert count_parameters(frozen, trainable_only=False) == 12
