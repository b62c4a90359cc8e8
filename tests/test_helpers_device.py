"""Device choice and seeding."""
import subprocess
import sys

import pytest
import torch

from helpers import get_device, seed_everything


def test_course_device_overrides_the_automatic_choice(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


def test_without_override_the_cpu_is_used_when_there_is_no_accelerator(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert get_device() == torch.device("cpu")


def test_without_override_cuda_comes_first(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device() == torch.device("cuda")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_a_missing_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(ValueError, match="no CUDA device"):
        get_device()


def test_a_nonsense_device_name_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "gpu please")
    with pytest.raises(ValueError, match="not a device name"):
        get_device()


def test_seed_everything_repeats_torch_and_numpy_draws():
    import numpy as np

    seed_everything(3)
    first = torch.rand(3), np.random.rand(3)
    seed_everything(3)
    second = torch.rand(3), np.random.rand(3)
    assert torch.equal(first[0], second[0]) and (first[1] == second[1]).all()


def test_importing_helpers_loads_nothing_heavy():
    code = (
        "import sys, helpers\n"
        "heavy = ['torch', 'torchvision', 'matplotlib', 'sklearn', 'scipy', 'plotly', 'mlxtend', 'numpy']\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == ""


def test_importing_one_function_loads_only_its_module():
    code = (
        "import sys\nfrom helpers import load_mnist\n"
        "print(','.join(m for m in ['matplotlib', 'sklearn', 'plotly'] if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == ""
