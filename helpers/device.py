"""Where tensors live, and reproducible randomness."""
from __future__ import annotations

import os
import random

import numpy as np
import torch


def get_device() -> torch.device:
    """The fastest device here: CUDA, then Apple's MPS, then the CPU; ``COURSE_DEVICE`` overrides."""
    requested = os.environ.get("COURSE_DEVICE", "").strip()
    if requested:
        return _checked_device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _checked_device(name: str) -> torch.device:
    """``torch.device(name)``, refusing a device this machine does not have."""
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise ValueError(
            f"COURSE_DEVICE={name!r} is not a device name; use cpu, cuda, cuda:1 or mps"
        ) from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"COURSE_DEVICE={name!r} asks for a GPU, but torch sees no CUDA device here")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"COURSE_DEVICE={name!r} asks for Apple's MPS, which is not available here")
    return device


def bf16_supported(device: torch.device | str = "cpu", cpuinfo: str | None = None) -> bool:
    """Whether ``device`` computes in bfloat16 natively: a CUDA GPU that supports it, or a CPU with bf16 instructions.

    On x86 that is AVX512-BF16 or AMX-BF16, on ARM the BF16 extension (flags in /proc/cpuinfo; pass
    ``cpuinfo`` to check another text). Elsewhere bf16 works but is emulated, often slower than float32.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo") as file:
                cpuinfo = file.read()
        except OSError:  # not Linux: no cheap way to tell, so no
            return False
    flags = set()
    for line in cpuinfo.splitlines():
        if line.split(":")[0].strip().lower() in ("flags", "features"):
            flags.update(line.split(":", 1)[1].split())
    return bool(flags & {"avx512_bf16", "amx_bf16", "bf16"})


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) so that a run can be repeated exactly."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    # cuDNN picks the fastest convolution algorithm per run unless told otherwise,
    # and some of those are not deterministic.
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
