"""The GPU kit (benchmarks/gpu): prepare and run in their dry-run modes on the CPU, so that the real run works first time.

The real run needs a lent GPU machine (no network there, 64 MiB travel with the working
tree); here each script runs for real with tiny sizes: prepare pins the wheels, packs the
data and enforces the size limit, run goes through its stages on the CPU and writes the JSON
that ``run.py --import-gpu`` folds into RESULTS.md.
"""
import importlib.util
import json
import shutil
import subprocess
import sys
import zipfile
from importlib.machinery import SourceFileLoader
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GPU = ROOT / "benchmarks" / "gpu"
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(GPU))

import kit as layout  # noqa: E402


def script(name: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(GPU / name), *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "COURSE_DATA": "mnist5k",
                                                "HOME": str(Path.home())})


@pytest.fixture(scope="module")
def dry_kit(tmp_path_factory) -> Path:
    kit = tmp_path_factory.mktemp("kit") / "kit"
    done = script("prepare", "--dry-run", "--kit", str(kit))
    assert done.returncode == 0, done.stderr
    return kit


def test_prepare_pins_every_wheel_to_this_environment_and_packs_the_data(dry_kit):
    manifest = layout.Manifest.read(dry_kit)
    assert manifest.dry_run and manifest.wheels == ()
    assert manifest.pinned == tuple(f"{name}=={version(name)}" for name in layout.WHEELS)
    assert sorted(manifest.data) == sorted(layout.DATA_FILES)
    raw = layout.data_dir(dry_kit) / "FashionMNIST" / "raw"
    assert all((raw / name).stat().st_size > 0 for name in layout.DATA_FILES)
    assert manifest.size_bytes == layout.folder_size(dry_kit) - (dry_kit / "manifest.json").stat().st_size


def test_prepare_fails_when_the_kit_would_not_travel(tmp_path):
    done = script("prepare", "--dry-run", "--kit", str(tmp_path / "kit"), "--limit-mib", "1")
    assert done.returncode == 1
    assert "over the 1 MiB limit" in done.stderr and "--no-data" in done.stderr


def test_the_kit_folder_is_ignored_by_git():
    done = subprocess.run(["git", "check-ignore", "-q", str(layout.KIT / "wheels" / "x.whl")], cwd=ROOT)
    assert done.returncode == 0, "benchmarks/gpu/kit/ must be git-ignored: it holds 55 MiB of wheels and data"


def test_a_slimmed_wheel_loses_the_folders_and_their_record_lines(tmp_path):
    loader = SourceFileLoader("prepare", str(GPU / "prepare"))
    prepare = importlib.util.module_from_spec(importlib.util.spec_from_loader("prepare", loader))
    loader.exec_module(prepare)
    wheel = tmp_path / "nbgrader-0.9.6-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("nbgrader/__init__.py", "x = 1\n")
        z.writestr("nbgrader/docs/source/big.ipynb", "{}" * 1000)
        z.writestr("nbgrader-0.9.6.dist-info/RECORD",
                   "nbgrader/__init__.py,sha256=a,6\nnbgrader/docs/source/big.ipynb,sha256=b,2000\n")
    prepare.slim_wheel(wheel, ("nbgrader/docs/",))
    with zipfile.ZipFile(wheel) as z:
        assert z.namelist() == ["nbgrader/__init__.py", "nbgrader-0.9.6.dist-info/RECORD"]
        assert z.read("nbgrader-0.9.6.dist-info/RECORD").decode() == "nbgrader/__init__.py,sha256=a,6\n"


def test_run_needs_a_place_for_its_results():
    done = script("run", "--dry-run")
    assert done.returncode == 2 and "--out is required" in done.stderr


@pytest.fixture(scope="module")
def dry_run(dry_kit, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("out")
    done = script("run", "--dry-run", "--kit", str(dry_kit), "--out", str(out),
                  "--stages", "install", "environment", "notebooks-full", "train")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads((out / "gpu-results.json").read_text())


def test_a_dry_run_goes_through_its_stages_on_the_cpu(dry_run):
    assert dry_run["kind"] == "course-gpu-run" and dry_run["dry_run"]
    assert {name: s["status"] for name, s in dry_run["stages"].items()} == {
        "install": "done", "environment": "done", "notebooks-full": "done", "train": "done"}
    assert dry_run["environment"]["device"] == "cpu" and not dry_run["environment"]["cuda"]
    variants = {v["variant"]: v for v in dry_run["train"]["variants"]}
    assert variants["fit, batch 1024 (baseline)"]["test_mse"] > 0
    assert variants["TF32 matmuls"] == {"variant": "TF32 matmuls", "skipped": "CUDA only"}
    e2e = dry_run["train"]["end_to_end"]
    assert e2e["epochs"] == 500 and not e2e["measured"] and e2e["how"].startswith("extrapolated")


def test_a_stage_out_of_time_is_skipped_and_said_so(dry_kit, tmp_path):
    done = script("run", "--dry-run", "--kit", str(dry_kit), "--out", str(tmp_path), "--budget-s", "50",
                  "--stages", "environment", "train")
    stages = json.loads((tmp_path / "gpu-results.json").read_text())["stages"]
    assert done.returncode == 0
    assert stages["train"]["status"].startswith("skipped: ") and "of the budget left" in stages["train"]["status"]


def test_the_import_fills_the_cuda_rows_and_refuses_a_dry_run_by_default(dry_run, tmp_path, monkeypatch):
    import import_gpu
    import report

    monkeypatch.setattr(report, "CHARTS", tmp_path / "charts")
    results = tmp_path / "results"
    results.mkdir()
    for section in ("train", "notebooks", "grading"):  # the committed results, as `make bench` left them
        shutil.copy(ROOT / "benchmarks" / "results" / f"bench-{section}.json", results)
    (tmp_path / "gpu.json").write_text(json.dumps(dry_run))
    with pytest.raises(SystemExit, match="dry run"):
        import_gpu.merge(tmp_path / "gpu.json", results)
    (tmp_path / "other.json").write_text("{}")
    with pytest.raises(SystemExit, match="not the output of benchmarks/gpu/run"):
        import_gpu.merge(tmp_path / "other.json", results)
    filled = import_gpu.merge(tmp_path / "gpu.json", results, allow_dry_run=True)
    assert filled[0].startswith("section 1: CUDA")
    text = report.render(None, out=tmp_path / "RESULTS.md", results=results).read_text()
    assert "| CUDA | fit, batch 1024 (baseline) |" in text  # the row came from the file, not "not measured"
    assert "## 7. The GPU check" in text and "| train | done |" in text


@pytest.mark.slow
def test_a_dry_run_grades_an_example_and_runs_a_notebook(dry_kit, tmp_path):
    # the grading and notebook stages through the real course commands, on the CPU (about 2 minutes; the
    # fairness stage, `course fairness` with other arguments, took 2.3 minutes more and is left out)
    done = script("run", "--dry-run", "--kit", str(dry_kit), "--out", str(tmp_path),
                  "--stages", "grading", "notebooks-quick", timeout=1200)
    result = json.loads((tmp_path / "gpu-results.json").read_text())
    assert done.returncode == 0, json.dumps(result["stages"])
    grading = result["grading"]
    assert grading["exit_code"] == 0 and grading["all_as_expected"], grading["log_tail"]
    assert grading["grades"] == {"example-blank": 0.0}
    assert grading["how"] in ("inside bubblewrap", "--no-sandbox (bubblewrap could not run here)")
    (run,) = result["notebooks-quick"]["runs"]
    assert run["notebook"] == "02-deep-and-spherical" and run["train_size"] == 256 and run["metrics"]
