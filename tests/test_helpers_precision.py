"""fit(..., precision="bf16"): opt-in bfloat16 autocast where the hardware has it, never while grading."""
import pytest
import torch
from torch import nn

import helpers.device
from helpers import bf16_supported, fit, seed_everything

XEON = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n"
EPYC = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n"
GRAVITON = "processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n"


def test_bf16_instructions_are_read_from_the_cpu_flags():
    assert bf16_supported("cpu", cpuinfo=XEON)
    assert bf16_supported("cpu", cpuinfo=GRAVITON)
    assert not bf16_supported("cpu", cpuinfo=EPYC)
    assert not bf16_supported("cpu", cpuinfo="")
    assert not bf16_supported("meta")


def _train(precision, record=None, epochs=3):
    seed_everything(0)
    model = nn.Sequential(nn.Linear(16, 4), nn.ReLU(), nn.Linear(4, 16))
    x = torch.rand(64, 16, generator=torch.Generator().manual_seed(0))

    def step(model, x, y=None):
        out = model(x)
        if record is not None:
            record.append(out.dtype)
        return nn.functional.mse_loss(out, x)

    history = fit(model, x, nn.MSELoss(), num_epochs=epochs, batch_size=16, step=step, progress=False,
                  precision=precision)
    return model, history


def test_an_unknown_precision_is_a_clear_error():
    with pytest.raises(ValueError, match="precision must be one of fp32, bf16, got 'fp16'"):
        _train("fp16")


def test_bf16_on_a_cpu_without_the_instructions_says_so(monkeypatch):
    monkeypatch.setattr(helpers.device, "bf16_supported", lambda device: False)
    with pytest.raises(ValueError, match="needs bfloat16 instructions.*use precision='fp32'"):
        _train("bf16")


def test_grading_trains_in_float32_whatever_was_asked(monkeypatch):
    monkeypatch.setattr(helpers.device, "bf16_supported", lambda device: True)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    dtypes = []
    graded, _ = _train("bf16", dtypes)
    monkeypatch.delenv("NBGRADER_EXECUTION")
    plain, _ = _train("fp32")
    assert set(dtypes) == {torch.float32}
    for a, b in zip(graded.parameters(), plain.parameters()):
        assert torch.equal(a, b), "while grading, precision='bf16' must train exactly as float32"


@pytest.mark.skipif(not bf16_supported("cpu"), reason="this CPU has no bf16 instructions")
def test_bf16_runs_the_forward_pass_in_bfloat16_and_keeps_float32_weights():
    dtypes = []
    model, history = _train("bf16", dtypes, epochs=30)
    assert set(dtypes) == {torch.bfloat16}, "the forward pass should run under bf16 autocast"
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert history["train"][-1] < history["train"][0], "training in bf16 should still lower the loss"
