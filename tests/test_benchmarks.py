"""The benchmark scripts' own logic (fast: nothing is trained, graded or executed here)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import bench_grading  # noqa: E402
import bench_notebooks  # noqa: E402
import report  # noqa: E402


@pytest.mark.parametrize("path", bench_notebooks.notebooks(), ids=lambda p: p.parent.name)
def test_every_notebook_has_the_train_size_knob(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    bench_notebooks.set_train_size(notebook, 1234)
    assert sum("TRAIN_SIZE = 1234  # benchmark\n" in c.source for c in notebook.cells) == 1


def test_set_train_size_refuses_a_notebook_without_the_knob() -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    with pytest.raises(ValueError, match="expected one cell"):
        bench_notebooks.set_train_size(notebook, 10)


def test_cell_seconds_from_nbclient_timestamps() -> None:
    cell = nbformat.v4.new_code_cell("pass")
    cell.metadata["execution"] = {"iopub.execute_input": "2026-11-29T10:00:00.000000Z",
                                  "shell.execute_reply": "2026-11-29T10:00:02.500000Z"}
    assert bench_notebooks.cell_seconds(cell) == pytest.approx(2.5)
    assert bench_notebooks.cell_seconds(nbformat.v4.new_code_cell("pass")) == 0.0


def test_fit_line_recovers_a_line() -> None:
    intercept, slope = bench_grading.fit_line([(1, 12.0), (4, 18.0), (16, 42.0)])
    assert intercept == pytest.approx(10.0) and slope == pytest.approx(2.0)


def test_verdict_needs_speed_and_quality() -> None:
    baseline = {"speedup_vs_baseline": 1.0, "test_mse": 0.020}
    assert report.verdict(baseline, baseline) == "baseline"
    assert report.verdict({"speedup_vs_baseline": 1.5, "test_mse": 0.020}, baseline) == "**yes**"
    assert report.verdict({"speedup_vs_baseline": 1.5, "test_mse": 0.040}, baseline).startswith("faster, but")
    assert report.verdict({"speedup_vs_baseline": 0.5, "test_mse": 0.020}, baseline) == "no (slower)"
    assert report.verdict({"speedup_vs_baseline": 1.05, "test_mse": 0.020}, baseline) == "no (within noise)"


def _machine() -> dict:
    return {"cpu": "Test CPU", "cores": 2, "torch_threads": 2, "torch": "2.x", "python": "3.11", "gpu": None,
            "commit": "abc", "date": "2026-11-29 10:00 UTC"}


def test_render_marks_gpu_rows_and_missing_sections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "CHARTS", tmp_path / "charts")
    variant = {"variant": "fit, batch 1024 (baseline)", "batch_size": 1024, "epochs": 2, "first_epoch_s": 4.0,
               "warm_epoch_s": 3.5, "train_loss": 0.03, "test_mse": 0.025, "speedup_vs_baseline": 1.0,
               "speedup_vs_seed_loop": 2.9}
    train = {"machine": _machine(), "quick": False, "seed_seconds_per_epoch": 2.11, "seed_epochs": 500,
             "seed_final_loss": 0.0124, "devices": {
                 "cpu": {"device": "cpu", "data": "FashionMNIST", "samples": 60000, "variant_epochs": 2,
                         "comparison": {"seed_loop_s": [10.0, 10.2], "fit_s": [3.5, 3.4], "speedup": 2.9},
                         "variants": [variant, {"variant": "TF32 matmuls", "skipped": "CUDA only"}],
                         "end_to_end": {"variant": variant["variant"], "epochs": 500, "measured": False,
                                        "total_s": 1750.0, "per_epoch_s": 3.5, "how": "extrapolated"}},
                 "cuda": {"not_measured": "not measured (no CUDA GPU in this run)"}}}
    (tmp_path / "bench-train.json").write_text(json.dumps(train))
    out = report.render(60.0, out=tmp_path / "RESULTS.md", results=tmp_path)
    text = out.read_text()
    assert "**2.9x**" in text and "Test CPU" in text
    assert "not measured (no CUDA GPU in this run)" in text
    assert "## 3. Grading throughput\n\nNot measured" in text
    assert (tmp_path / "charts" / "train_loop.png").is_file()
