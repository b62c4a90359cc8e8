"""Sections 2, 4 and 5 (notebooks): wall time of each solved notebook, its slowest cells, its own numbers.

Each solved notebook (source_notebooks/*/*.ipynb) runs top to bottom in a fresh kernel
(``notebook_metrics.execute``), then a last cell prints its ``results`` dict: the model
quality numbers come from the notebook's own code, not from a re-implementation here.
Cell times come from the execution timestamps nbclient records in each cell's metadata.

Runs: every notebook with ``COURSE_DATA=mnist5k`` on the CPU and with full-size data
(``fashion-mnist`` unless full MNIST is on disk) on the CPU and on CUDA when there is one;
then one notebook with the training set cut to 5k, 15k and 60k images (the notebooks'
``TRAIN_SIZE`` knob; 10k, their default, comes from the full-size run).

    python benchmarks/bench_notebooks.py [--quick] [--scaling-notebook 04-latent-classifier-contrastive]
"""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from common import NOT_MEASURED_GPU, ROOT, machine, save, say  # noqa: I001 (sets sys.path for helpers)

import nbformat
import torch

import notebook_metrics
from helpers.data import _idx_files_in, data_root

# Full-size runs on the CPU that fit the 30-minute budget: 01 and 02 train a fixed number of
# epochs and take 5-6 minutes each on 10,000 Fashion-MNIST images (thresholds-0[12]-fashion-mnist.md);
# 03 and 04 train a fixed number of steps, about a minute and a half each.
FULL_ON_CPU = ("03-variational-autoencoders", "04-latent-classifier-contrastive")
SLICE = "x_train, y_train = x_train[:TRAIN_SIZE], y_train[:TRAIN_SIZE]"  # the line every notebook cuts with


def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted((root / "source_notebooks").glob("*/*.ipynb"))


def full_size_data() -> str:
    """COURSE_DATA for full-size runs: MNIST when its files are on disk, else Fashion-MNIST (same size)."""
    return "mnist" if _idx_files_in(data_root() / "MNIST" / "raw") else "fashion-mnist"


def set_train_size(notebook: nbformat.NotebookNode, train_size: int) -> None:
    """Make the notebook train on ``train_size`` images: TRAIN_SIZE is reassigned just before the cut."""
    cells = [cell for cell in notebook.cells if cell.cell_type == "code" and SLICE in cell.source]
    if len(cells) != 1:  # fail loudly: a silently ignored knob would mislabel every number
        raise ValueError(f"expected one cell with {SLICE!r}, found {len(cells)}")
    cells[0].source = cells[0].source.replace(SLICE, f"TRAIN_SIZE = {train_size}  # benchmark\n{SLICE}")


def cell_seconds(cell: nbformat.NotebookNode) -> float:
    """How long a cell ran, from the timestamps nbclient records (0 for a cell that did not run)."""
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not start or not end:
        return 0.0
    parse = dt.datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def cell_label(index: int, cell: nbformat.NotebookNode) -> str:
    """The grade id of a graded cell, else the cell's first code line: what a reader can find in the notebook."""
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    first = next((line.strip() for line in cell.source.splitlines() if line.strip() and not line.startswith("#")), "")
    return f"cell {index}: " + (grade_id or first[:60].replace("|", "/"))


def run_notebook(path: Path, data: str, device: str, train_size: int | None, timeout: int, threads: int) -> dict:
    """Execute one solved notebook; its wall time, its three slowest cells, its results dict and failures."""
    notebook = nbformat.read(path, as_version=4)
    if train_size is not None:
        set_train_size(notebook, train_size)
    notebook.cells.append(notebook_metrics.metrics_cell("results"))
    env = {"COURSE_DATA": data, "COURSE_DEVICE": device, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    seconds = notebook_metrics.execute(notebook, path, env, timeout)
    failures, metrics = notebook_metrics.collect(notebook)
    cells = sorted(((cell_seconds(c), cell_label(i, c)) for i, c in enumerate(notebook.cells[:-1])), reverse=True)
    return {"notebook": path.parent.name, "data": data, "device": device, "train_size": train_size,
            "seconds": round(seconds, 1), "slowest": [[label, round(s, 1)] for s, label in cells[:3]],
            "metrics": metrics, "failures": failures}


def run_set(paths: list[Path], data: str, device: str, train_size: int | None, timeout: int, threads: int) -> list[dict]:
    runs = []
    for number, path in enumerate(paths, 1):
        size = "" if train_size is None else f", TRAIN_SIZE={train_size:,}"
        say(f"  [{number}/{len(paths)}] {path.parent.name} (COURSE_DATA={data}, {device}{size})")
        runs.append(run_notebook(path, data, device, train_size, timeout, threads))
        run = runs[-1]
        say(f"    {run['seconds']} s; slowest {run['slowest'][0]}" + (f"; FAILED {run['failures']}" if run["failures"] else ""))
    return runs


def run(quick: bool = False, scaling_notebook: str = "04-latent-classifier-contrastive",
        scaling_sizes: tuple[int, ...] = (5_000, 15_000, 60_000), full_on_cpu: tuple[str, ...] = FULL_ON_CPU,
        timeout: int = 900, threads: int = 1) -> dict:
    """Every notebook on the subset and full-size data, and the scaling runs; saved as bench-notebooks.json.

    ``threads`` torch threads per kernel (1 by default, as when grading): on a CPU shared with other jobs
    two spinning OpenMP threads per kernel made a notebook 5x slower in a trial run, one thread keeps the
    times comparable from run to run.
    """
    paths = notebooks()
    full = full_size_data()
    result = {"machine": machine(), "quick": quick, "full_data": full, "runs": {}, "scaling": [],
              "scaling_notebook": scaling_notebook, "threads": threads}
    say(f"section 2: {len(paths)} notebooks, COURSE_DATA=mnist5k on the CPU")
    result["runs"]["mnist5k-cpu"] = run_set(paths[:1] if quick else paths, "mnist5k", "cpu", None, timeout, threads)
    chosen = [p for p in paths if p.parent.name in full_on_cpu]
    if chosen and not quick:
        say(f"section 2: {len(chosen)} notebooks, COURSE_DATA={full} on the CPU")
        result["runs"][f"{full}-cpu"] = run_set(chosen, full, "cpu", None, timeout, threads)
    if torch.cuda.is_available():
        say(f"section 2: {len(paths)} notebooks, COURSE_DATA={full} on CUDA")
        result["runs"][f"{full}-cuda"] = run_set(paths, full, "cuda", None, timeout, threads)
        result["runs"][f"{full}-cuda-60k"] = run_set(paths, full, "cuda", 60_000, timeout, threads)
    else:
        result["cuda"] = NOT_MEASURED_GPU
    if not quick:
        path = next(p for p in paths if p.parent.name == scaling_notebook)
        say(f"section 5: {scaling_notebook} with TRAIN_SIZE {', '.join(f'{n:,}' for n in scaling_sizes)} ({full}, CPU)")
        result["scaling"] = [run_set([path], full, "cpu", size, timeout, threads)[0] for size in scaling_sizes]
    save("notebooks", result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the first notebook on mnist5k only")
    parser.add_argument("--scaling-notebook", default="04-latent-classifier-contrastive")
    parser.add_argument("--scaling-sizes", type=int, nargs="+", default=[5_000, 15_000, 60_000])
    parser.add_argument("--full-on-cpu", nargs="*", default=list(FULL_ON_CPU),
                        help="notebooks to run with full-size data on the CPU (none: skip)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per notebook kernel")
    args = parser.parse_args(argv)
    run(args.quick, args.scaling_notebook, tuple(args.scaling_sizes), tuple(args.full_on_cpu), args.timeout,
        args.threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
