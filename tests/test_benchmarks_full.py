"""Section 6 of the bench: the codes-vs-pixels measurement and what the report concludes from it."""
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import codes_vs_pixels  # noqa: E402
import report  # noqa: E402
import report_full  # noqa: E402


def test_centroid_accuracy_on_a_small_example():
    z_train = torch.tensor([[0.0, 0.0], [0.0, 2.0], [10.0, 0.0], [10.0, 2.0]] + [[50.0, 50.0]] * 8)
    y_train = torch.tensor([0, 0, 1, 1] + list(range(2, 10)))
    z_test = torch.tensor([[1.0, 1.0], [9.0, 1.0], [6.0, 1.0]])
    assert codes_vs_pixels.centroid_accuracy(z_train, y_train, z_test, torch.tensor([0, 1, 0])) == pytest.approx(2 / 3)


def test_a_short_run_records_a_curve_and_the_pixels(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    setting = codes_vs_pixels.Setting("mnist5k", 300, epochs=2, contrastive_weight=0.01, checkpoints=(1,))
    result = codes_vs_pixels.run(setting)
    assert [p["epoch"] for p in result["curve"]] == [1, 2]
    assert all(0.0 <= p["accuracy"] <= 1.0 and p["test_mse"] > 0 for p in result["curve"])
    assert result["train_images"] == 300 and result["label"] == "contrastive 0.01"
    # the pixel accuracy is the same classifier on the raw images, computed independently here
    x_train, y_train, x_test, y_test = codes_vs_pixels.load("mnist5k", 300)
    centres = torch.stack([x_train[y_train == c].double().mean(0) for c in range(10)])
    expected = (torch.cdist(x_test.double(), centres).argmin(1) == y_test).double().mean().item()
    assert result["pixel_accuracy"] == pytest.approx(expected, abs=1e-4)


def _run(data, size, label, pixels, curve, **setting):
    weight = 0.0 if label == "plain" else 0.01
    return {"setting": {"data": data, "train_size": size, "epochs": curve[-1][0], "batch_size": 1024,
                        "contrastive_weight": weight, "weight_decay": 1e-8, "latent_dim": 50, **setting},
            "label": label, "train_images": size, "pixel_accuracy": pixels, "seconds_per_epoch": 1.0,
            "curve": [{"epoch": e, "accuracy": a, "test_mse": 0.02} for e, a in curve]}


def test_the_lessons_say_below_above_or_level_from_the_numbers():
    codes = [_run("mnist5k", 4000, "plain", 0.804, [(10, 0.60), (500, 0.731)]),
             _run("mnist5k", 4000, "contrastive 0.01", 0.804, [(10, 0.60), (500, 0.812)]),
             _run("fashion-mnist", 60000, "plain", 0.677, [(10, 0.70)]),
             _run("mnist5k", 4000, "plain", 0.804, [(10, 0.9)], weight_decay=1e-4)]  # a variant: not a lesson
    lines = "\n".join(report_full.lessons(None, codes))
    assert "mnist5k, 4,000 training images, 500 epochs: the plain codes stay below the pixels (best 73.1 %" in lines
    assert "adds +8.1 points at epoch 500 (81.2 %, level with the pixels)" in lines
    assert "fashion-mnist, 60,000 training images, 10 epochs: the plain codes beat the pixels" in lines
    assert "90.0" not in lines


def test_section_six_renders_its_charts(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "CHARTS", tmp_path / "charts")
    (tmp_path / "codes-vs-pixels.jsonl").write_text("\n".join(__import__("json").dumps(r) for r in [
        _run("fashion-mnist", 4000, "plain", 0.675, [(10, 0.50), (20, 0.58)]),
        _run("fashion-mnist", 15000, "plain", 0.676, [(10, 0.60), (20, 0.62)])]) + "\n")
    text = report_full.section_full(None, tmp_path, report.save_figure)
    assert "![codes_vs_pixels](charts/codes_vs_pixels.png)" in text and "![codes_vs_size]" in text
    assert (tmp_path / "charts" / "codes_vs_size.png").stat().st_size > 0
