"""Sections 3 and 5 (grading): seconds per submission with --jobs 1 and 2, sandbox on and off, and scaling.

Every run is a real ``python -m course grade`` in a scratch course (a copy of pyproject.toml,
nbgrader_config.py, source_notebooks/ and release/ in a temporary folder, ``--root``): the
repository's gradebook, autograded/ and grades.csv are never touched.

- throughput: the example submissions (``course examples``: complete, partial and blank) of
  the chosen assignments, with --jobs 1 and --jobs 2, sandbox on, and --jobs 2 with
  ``--no-sandbox``: seconds per submission and submissions per minute of wall time;
- scaling: 1, 4 and 16 copies of the blank example of one assignment (the cheapest
  submission: what grows with the count is the per-submission overhead), with --jobs 2;
  larger counts (64) are extrapolated from the least-squares line through the measured
  points, and labelled so.

    python benchmarks/bench_grading.py [--assignments 02-deep-and-spherical] [--copies 1 4 16]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, machine, save, say

COURSE_FILES = ("pyproject.toml", "nbgrader_config.py", "source_notebooks", "release")
# What a sandboxed kernel gets from course.autograde.grading_environment. With --no-sandbox the
# kernel inherits the grader's own environment instead (seen in a trial run: two torch threads
# per kernel, no COURSE_DATA), so the grader runs with these set: sandbox on and off then grade
# under the same thread count and data, and the comparison measures the sandbox alone.
KERNEL_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "COURSE_DATA": "mnist5k"}


def scratch_course(parent: Path, name: str) -> Path:
    """A fresh course root under ``parent``: the course's notebooks and settings, no grading state."""
    root = parent / name
    root.mkdir()
    for item in COURSE_FILES:
        source = ROOT / item
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, root / item)
    return root


def course(root: Path, *args: str, log: Path) -> float:
    """Run ``python -m course --root ROOT ARGS``, output to ``log``; returns the wall seconds (raises on failure)."""
    start = time.perf_counter()
    with open(log, "w") as out:
        done = subprocess.run([sys.executable, "-m", "course", "--root", str(root), *args], cwd=root,
                              stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **KERNEL_ENV})
    seconds = time.perf_counter() - start
    if done.returncode != 0:  # exit 1 means a submission could not be graded: the timing would mean nothing
        raise RuntimeError(f"course {' '.join(args)} exited {done.returncode}; see {log}:\n{log.read_text()[-2000:]}")
    return seconds


def examples(parent: Path) -> Path:
    """The example submissions (``course examples``) in a folder of their own; returns it."""
    root = scratch_course(parent, "examples-course")
    course(root, "examples", "--out", str(parent / "examples"), log=parent / "examples.log")
    return parent / "examples"


def subset(examples_dir: Path, assignments: list[str], out: Path) -> int:
    """Copy the examples of ``assignments`` to ``out`` (nbgrader layout); returns how many submissions."""
    count = 0
    for student in sorted(p for p in examples_dir.iterdir() if p.is_dir()):
        for assignment in assignments:
            shutil.copytree(student / assignment, out / student.name / assignment)
            count += 1
    return count


def copies(examples_dir: Path, assignment: str, n: int, out: Path) -> int:
    """``n`` students each handing in the blank example of ``assignment``."""
    for i in range(n):
        shutil.copytree(examples_dir / "example-blank" / assignment, out / f"student-{i:03d}" / assignment)
    return n


def grade(parent: Path, label: str, submissions: Path, count: int, jobs: int, sandbox: bool,
          assignments: list[str]) -> dict:
    """One timed ``course grade`` run in a fresh scratch course."""
    root = scratch_course(parent, f"course-{label}")
    args = ["grade", str(submissions), "--jobs", str(jobs)] + ([] if sandbox else ["--no-sandbox"])
    if len(assignments) == 1:
        args += ["--assignment", assignments[0]]
    say(f"  grading {count} submission(s), --jobs {jobs}, sandbox {'on' if sandbox else 'off'}")
    seconds = course(root, *args, log=parent / f"{label}.log")
    say(f"    {seconds:.1f} s: {seconds / count:.1f} s per submission")
    return {"submissions": count, "jobs": jobs, "sandbox": sandbox, "seconds": round(seconds, 1),
            "seconds_per_submission": round(seconds / count, 2),
            "submissions_per_minute": round(60 * count / seconds, 2)}


def fit_line(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares intercept and slope of seconds against the number of submissions."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / var if var else 0.0
    return mean_y - slope * mean_x, slope


def sandbox_available() -> bool:
    return shutil.which("bwrap") is not None


def run(assignments: list[str], scaling_assignment: str, copy_counts: list[int], extrapolate_to: list[int],
        scaling_jobs: int = 2, configs: list[tuple[int, bool]] | None = None) -> dict:
    """Both grading measurements; saved as bench-grading.json."""
    configs = configs or [(1, True), (2, True), (2, False)]
    if not sandbox_available():
        configs = [(jobs, False) for jobs, _ in configs]
    result = {"machine": machine(), "assignments": assignments, "throughput": [], "scaling": [],
              "scaling_assignment": scaling_assignment, "scaling_jobs": scaling_jobs,
              "sandbox_available": sandbox_available()}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        parent = Path(scratch)
        say("section 3: writing the example submissions")
        examples_dir = examples(parent)
        submissions = parent / "throughput"
        count = subset(examples_dir, assignments, submissions)
        say(f"section 3: grading throughput, {count} example submissions ({', '.join(assignments)})")
        for jobs, sandbox in configs:
            label = f"throughput-j{jobs}-{'sandbox' if sandbox else 'nosandbox'}"
            result["throughput"].append(grade(parent, label, submissions, count, jobs, sandbox, assignments))
        say(f"section 5: grading time against the number of submissions ({scaling_assignment}, blank)")
        for n in copy_counts:
            folder = parent / f"copies-{n}"
            copies(examples_dir, scaling_assignment, n, folder)
            run_ = grade(parent, f"copies-{n}", folder, n, scaling_jobs, sandbox_available(), [scaling_assignment])
            result["scaling"].append({**run_, "measured": True})
    intercept, slope = fit_line([(r["submissions"], r["seconds"]) for r in result["scaling"]])
    result["scaling_fit"] = {"intercept_s": round(intercept, 2), "slope_s_per_submission": round(slope, 2)}
    for n in extrapolate_to:
        if n not in copy_counts:
            seconds = intercept + slope * n
            result["scaling"].append({"submissions": n, "jobs": scaling_jobs, "sandbox": sandbox_available(),
                                      "seconds": round(seconds, 1), "seconds_per_submission": round(seconds / n, 2),
                                      "submissions_per_minute": round(60 * n / seconds, 2), "measured": False})
    save("grading", result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignments", nargs="+", default=["02-deep-and-spherical"],
                        help="whose example submissions the throughput runs grade (all four: a lot slower)")
    parser.add_argument("--scaling-assignment", default="02-deep-and-spherical")
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--extrapolate", type=int, nargs="*", default=[64])
    args = parser.parse_args(argv)
    run(args.assignments, args.scaling_assignment, args.copies, args.extrapolate)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
