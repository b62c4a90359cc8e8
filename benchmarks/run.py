"""`make bench`: run the benchmark sections, then regenerate benchmarks/RESULTS.md and its charts.

    python benchmarks/run.py                       # everything (about 25 minutes on a 2-core CPU)
    python benchmarks/run.py --quick               # a smoke run (a few minutes): smaller, fewer repeats
    python benchmarks/run.py --sections grading    # one section; the others keep their last results
    python benchmarks/run.py --report-only         # re-render RESULTS.md from results/bench-*.json
    python benchmarks/run.py --import-gpu gpu-results.json   # fold a GPU run (benchmarks/gpu/run) into the CUDA rows

Sections: ``train`` (1: training loop), ``notebooks`` (2, 4 and the notebook half of 5),
``grading`` (3 and the grading half of 5), ``full`` (6: every notebook in the full profile on
mnist5k, bf16 on the CPU). Each writes results/bench-<section>.json. ``codes`` (not run by
default: about an hour on one core) runs benchmarks/codes_vs_pixels.py's measurements, whose
results section 6 charts.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from common import say

SECTIONS = ("train", "notebooks", "grading", "full")
OPTIONAL = ("codes",)
# codes vs pixels (benchmarks/codes_vs_pixels.py), the runs section 6 charts: an hour or more on one core
CODES_RUNS = (
    "--data mnist5k --epochs 500 --checkpoints 10 30 60 100 200 300",  # seed 004's schedule, plain and contrastive
    "--data fashion-mnist --train-size 4000 --epochs 60 --checkpoints 10 20 30",
    "--data fashion-mnist --train-size 15000 --epochs 60 --checkpoints 10 20 30",
    "--data fashion-mnist --epochs 10 --checkpoints 5",
    # changes within the seed's spirit, on the offline digits
    "--data mnist5k --epochs 100 --checkpoints 10 30 60 --weight-decay 1e-4",
    "--data mnist5k --epochs 100 --checkpoints 10 30 60 --contrastive-weights 0.1",
    "--data mnist5k --epochs 100 --checkpoints 10 30 60 --latent-dim 10 --contrastive-weights 0",
)


def run_section(name: str, quick: bool) -> None:
    """One section with the defaults that fit the 30-minute budget (smaller with --quick)."""
    if name == "train":
        import bench_train

        bench_train.run(quick=quick)
    elif name == "notebooks":
        import bench_notebooks

        bench_notebooks.run(quick=quick)
    elif name == "grading":
        import bench_grading

        # --quick: blank copies only, no --jobs 1 run: the grading machinery, not its numbers
        bench_grading.run(["02-deep-and-spherical"], "02-deep-and-spherical",
                          [1, 2] if quick else [1, 4, 16], [64],
                          configs=[(2, True), (2, False)] if quick else None)
    elif name == "full":
        import bench_full

        bench_full.run(["02-deep-and-spherical"] if quick else None, bf16=not quick)
    elif name == "codes":
        import codes_vs_pixels

        for args in CODES_RUNS[:1] if quick else CODES_RUNS:
            codes_vs_pixels.main(args.split() + (["--epochs", "2", "--out", "/dev/null"] if quick else []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a fast smoke run, not numbers to publish")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS + OPTIONAL, default=list(SECTIONS))
    parser.add_argument("--report-only", action="store_true", help="only re-render RESULTS.md and the charts")
    parser.add_argument("--import-gpu", type=Path, metavar="FILE",
                        help="fold benchmarks/gpu/run's gpu-results.json into the CUDA rows, then re-render")
    args = parser.parse_args(argv)
    if args.import_gpu:
        import import_gpu
        import report

        for line in import_gpu.merge(args.import_gpu):
            say(f"filled {line}")
        say(f"wrote {report.render(None)}")
        return 0

    start = time.perf_counter()
    if not args.report_only:
        for name in args.sections:
            section_start = time.perf_counter()
            say(f"=== section '{name}'")
            run_section(name, args.quick)
            say(f"=== section '{name}' done in {(time.perf_counter() - section_start) / 60:.1f} min")
    elapsed = None if args.report_only or set(args.sections) != set(SECTIONS) else time.perf_counter() - start
    import report

    path = report.render(elapsed)
    say(f"wrote {path} and benchmarks/charts/ ({(time.perf_counter() - start) / 60:.1f} min in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
