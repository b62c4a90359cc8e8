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


class Unfinished:
    """Stands in for a result that needs an exercise not finished yet: using it raises NotImplementedError.

    A cell that builds a result from an exercise (``ae = Autoencoder(); fit(ae, ...)``) leaves
    its name undefined when the exercise still raises ``NotImplementedError``. Binding the name
    to ``Unfinished("Autoencoder")`` first means every later cell that uses it stops with the
    same clear message (finish the exercise) instead of a ``NameError`` or a shape error.
    """

    def __init__(self, exercise: str) -> None:
        object.__setattr__(self, "_exercise", exercise)

    def _stop(self, *args: Any, **kwargs: Any):
        raise NotImplementedError(
            f"this needs the exercise `{object.__getattribute__(self, '_exercise')}` above: "
            "finish it, run its cell, then run this cell again"
        )

    def __getattr__(self, name: str):
        if name.startswith("_"):  # Jupyter's display machinery probes for _repr_*_ methods
            raise AttributeError(name)
        self._stop()

    def __repr__(self) -> str:
        return f"<unfinished: needs the exercise `{object.__getattribute__(self, '_exercise')}`>"

    __str__ = __repr__

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        # torch.cat([...]), F.mse_loss(...) and friends land here when given a placeholder
        pending = [args, list((kwargs or {}).values())]
        while pending:  # find the placeholder, possibly inside a list of tensors
            item = pending.pop()
            if isinstance(item, cls):
                item._stop()
            if isinstance(item, (list, tuple)):
                pending.extend(item)
        return NotImplemented

    __call__ = __iter__ = __len__ = __getitem__ = __contains__ = __bool__ = _stop
    __array__ = __float__ = __int__ = __index__ = __format__ = _stop
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _stop
    __matmul__ = __rmatmul__ = __pow__ = __neg__ = __lt__ = __le__ = __gt__ = __ge__ = _stop
    __setattr__ = __setitem__ = _stop
