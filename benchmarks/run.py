"""`make bench`: run the benchmark sections, then regenerate benchmarks/RESULTS.md and its charts.

    python benchmarks/run.py                       # everything (about 25 minutes on a 2-core CPU)
    python benchmarks/run.py --quick               # a smoke run (a few minutes): smaller, fewer repeats
    python benchmarks/run.py --sections grading    # one section; the others keep their last results
    python benchmarks/run.py --report-only         # re-render RESULTS.md from results/bench-*.json

Sections: ``train`` (1: training loop), ``notebooks`` (2, 4 and the notebook half of 5),
``grading`` (3 and the grading half of 5). Each writes results/bench-<section>.json.
"""
from __future__ import annotations

import argparse
import time

from common import say

SECTIONS = ("train", "notebooks", "grading")


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a fast smoke run, not numbers to publish")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--report-only", action="store_true", help="only re-render RESULTS.md and the charts")
    args = parser.parse_args(argv)

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
