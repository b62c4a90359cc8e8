"""Small checks for the notebooks' test cells, with messages a student can act on.

Each check raises ``AssertionError`` naming the thing checked, what was expected and what
was found. They compare plain tensors only: a value of another type (a NumPy array, a
list, an object whose ``==`` always answers True) fails the type check before any
comparison is made.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn


def check_tensor(
    value: Any,
    name: str,
    shape: Sequence[int] | None = None,
    dtype: torch.dtype | None = None,
    finite: bool = True,
    low: float | None = None,
    high: float | None = None,
) -> torch.Tensor:
    """Assert that ``value`` is a torch.Tensor with this shape, dtype and range; returns it detached."""
    if type(value) not in (torch.Tensor, nn.Parameter):
        raise AssertionError(f"{name} should be a torch.Tensor, but it is a {type(value).__name__}")
    tensor = value.detach()
    if shape is not None and tuple(tensor.shape) != tuple(shape):
        raise AssertionError(f"{name} should have shape {tuple(shape)}, but it has shape {tuple(tensor.shape)}")
    if dtype is not None and tensor.dtype != dtype:
        raise AssertionError(f"{name} should have dtype {dtype}, but it has dtype {tensor.dtype}")
    if finite and tensor.is_floating_point() and not torch.isfinite(tensor).all():
        raise AssertionError(f"{name} contains NaN or infinite values")
    if low is not None and tensor.numel() and tensor.min().item() < low:
        raise AssertionError(f"{name} should be at least {low}, but its smallest value is {tensor.min().item():.4g}")
    if high is not None and tensor.numel() and tensor.max().item() > high:
        raise AssertionError(f"{name} should be at most {high}, but its largest value is {tensor.max().item():.4g}")
    return tensor


def check_close(
    value: Any,
    expected: torch.Tensor,
    name: str,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    hint: str = "",
) -> None:
    """Assert that tensor ``value`` has ``expected``'s shape and values up to the tolerances."""
    actual = check_tensor(value, name, shape=expected.shape, finite=False)
    actual = actual.to(device="cpu", dtype=torch.float64)
    expected = expected.detach().to(device="cpu", dtype=torch.float64)
    if not torch.allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=False):
        error = (actual - expected).abs().max().item()
        raise AssertionError(
            f"{name} has wrong values: the largest difference from the expected values is {error:.4g}"
            + (f". {hint}" if hint else "")
        )


def check_scalar(value: Any, expected: float, name: str, rtol: float = 1e-4, atol: float = 1e-6, hint: str = "") -> float:
    """Assert that ``value`` is a single number (float, int or 0-d tensor) close to ``expected``; returns it."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise AssertionError(f"{name} should be a single number, but it has shape {tuple(value.shape)}")
        number = value.detach().reshape(()).item()
    elif type(value) in (float, int):
        number = float(value)
    else:
        raise AssertionError(f"{name} should be a number, but it is a {type(value).__name__}")
    if not abs(number - expected) <= atol + rtol * abs(expected):
        raise AssertionError(f"{name} is {number:.6g}, expected {expected:.6g}" + (f". {hint}" if hint else ""))
    return number


def check_module(value: Any, name: str) -> nn.Module:
    """Assert that ``value`` is a torch ``nn.Module``; returns it."""
    if not isinstance(value, nn.Module):
        raise AssertionError(f"{name} should be a torch.nn.Module, but it is a {type(value).__name__}")
    return value
