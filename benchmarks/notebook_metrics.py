"""Run a solved notebook under several seeds and collect the numbers its thresholds are chosen from.

Every threshold on a trained model (an accuracy, a loss ratio) must come from measured
runs. This script executes a notebook top to bottom once per seed, shifting every
``seed_everything(s)`` call to ``seed_everything(s + offset)``, then evaluates an
expression in the kernel (by default the notebook's ``results`` dict) and prints the
distribution of each number, plus the wall time and any cell that failed (a hidden test
whose threshold that seed did not meet shows up here).

    python benchmarks/notebook_metrics.py source_notebooks/01-pca-to-autoencoders/01-pca-to-autoencoders.ipynb \
        --seeds 0 1 2 3 4 --data mnist5k --out benchmarks/results/metrics-01-mnist5k.md
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

MARKER = "__NOTEBOOK_METRICS__"


def seed_shift_cell(offset: int) -> nbformat.NotebookNode:
    """A first cell that makes every later seed_everything(s) use s + offset."""
    return nbformat.v4.new_code_cell(
        "import helpers.device as _device\n"
        "_seed_everything = _device.seed_everything\n"
        f"_device.seed_everything = lambda seed: _seed_everything(seed + {offset})\n"
    )


def metrics_cell(expression: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(
        f"import json as _json\nprint({MARKER!r} + _json.dumps({{k: float(v) for k, v in ({expression}).items()}}))"
    )


def run_once(path: Path, offset: int, data: str, expression: str, timeout: int) -> dict:
    """Execute the notebook with seeds shifted by ``offset``; returns metrics, failures and time."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = [seed_shift_cell(offset), *notebook.cells, metrics_cell(expression)]
    seconds = execute(notebook, path, {"COURSE_DATA": data}, timeout)
    failures, metrics = collect(notebook)
    return {"offset": offset, "seconds": round(seconds, 1), "metrics": metrics, "failures": failures}


def execute(notebook: nbformat.NotebookNode, path: Path, env: dict[str, str], timeout: int) -> float:
    """Run ``notebook`` in place (in the folder of ``path``, errors kept as outputs); returns the wall seconds."""
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute(env={**os.environ, **env})
    return time.perf_counter() - start


def collect(notebook: nbformat.NotebookNode) -> tuple[list[str], dict]:
    """The failed cells (grade id: error) and the metrics printed by ``metrics_cell`` of an executed notebook."""
    failures, metrics = [], {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "?")
                failures.append(f"{grade_id}: {output['ename']}: {output['evalue'][:200]}")
            if output.get("output_type") == "stream" and MARKER in output.get("text", ""):
                line = next(l for l in output["text"].splitlines() if l.startswith(MARKER))
                metrics = json.loads(line[len(MARKER):])
    return failures, metrics


def summary_table(runs: list[dict]) -> str:
    names = sorted({name for run in runs for name in run["metrics"]})
    lines = ["| metric | mean | std | min | max | values |", "| --- | --- | --- | --- | --- | --- |"]
    for name in names:
        values = [run["metrics"][name] for run in runs if name in run["metrics"]]
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        lines.append(
            f"| {name} | {statistics.mean(values):.4g} | {std:.2g} | {min(values):.4g} | {max(values):.4g} | "
            + ", ".join(f"{v:.4g}" for v in values) + " |"
        )
    times = [run["seconds"] for run in runs]
    lines.append(f"| wall time (s) | {statistics.mean(times):.1f} | | {min(times):.1f} | {max(times):.1f} | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="seed offsets")
    parser.add_argument("--data", default="mnist5k", help="COURSE_DATA for the runs")
    parser.add_argument("--expr", default="results", help="a dict of numbers, evaluated in the kernel at the end")
    parser.add_argument("--timeout", type=int, default=900, help="per-cell timeout in seconds")
    parser.add_argument("--out", type=Path, help="also write the markdown summary here")
    args = parser.parse_args(argv)

    runs = []
    for offset in args.seeds:
        run = run_once(args.notebook.resolve(), offset, args.data, args.expr, args.timeout)
        print(json.dumps(run), flush=True)
        runs.append(run)
    report = (
        f"# {args.notebook.stem}: {len(runs)} seeds, COURSE_DATA={args.data}\n\n{summary_table(runs)}\n\n"
        + "\n".join(f"- seed offset {r['offset']}: failed {f}" for r in runs for f in r["failures"])
    )
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report + "\n")
    return 1 if any(run["failures"] or not run["metrics"] for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
