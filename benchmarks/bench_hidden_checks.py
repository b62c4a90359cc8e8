"""Hidden checks judged outside the student's process, before and after, in one run.

    python benchmarks/bench_hidden_checks.py [--before f99d5d4] [--rounds 1] [--skip-time]

"Before" is the course at a git commit whose hidden tests still ran inside the student's
kernel (default: f99d5d4, the last commit before course/checks.py); "after" is this
checkout. The script checks the old commit out beside this one (``git worktree``), gives it
a virtual environment of its own that shares this one's packages (a ``.pth`` file; nothing
is installed), and then, in scratch copies of each course:

1. the red team's in-process rewrites (tests/redteam/corpus.py: input and AST transformers,
   a patched ``run_cell``, compiler and ``do_execute``, a trace function, fake results, a
   probe killer), plus the honest partial submission they start from, graded by each
   course's own ``course grade``: points and what the instructor is told;
2. the twelve example submissions (``course examples``: complete, partial and blank of the
   four assignments) graded by each, alternately (``--rounds``; before-after, then after-before), ``--jobs 2``: the time ratio
   after / before (target: at most 1.15) and the points of each, which must be equal.

Results go to benchmarks/results/hidden-checks.md and bench-hidden-checks.json.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import RESULTS, ROOT, load, machine, save, say, table

sys.path[:0] = [str(ROOT / "tests" / "redteam"), str(ROOT / "tests")]
DEFAULT_BEFORE = "f99d5d4"
FAMILY = ("honest-partial", "input-transformer", "run-cell-wrapper", "ast-transformer", "shell-compiler",
          "kernel-execute", "trace-function", "fake-results", "probe-killer")
COURSE_FILES = ("pyproject.toml", "nbgrader_config.py", "source_notebooks", "release")


def before_environment(commit: str, folder: Path) -> Path:
    """The course at ``commit`` checked out in ``folder``, and a Python that imports it; returns that Python."""
    subprocess.run(["git", "worktree", "add", "--force", "--detach", str(folder / "code"), commit], cwd=ROOT,
                   check=True, capture_output=True)
    subprocess.run([str(Path(sys.base_prefix) / "bin" / "python3"), "-m", "venv", str(folder / "venv")], check=True)
    site = next((folder / "venv" / "lib").glob("python3*/site-packages"))
    # this checkout's packages for everything, the old commit's code for course and helpers, first
    (site / "0-before-course.pth").write_text(str(folder / "code") + "\n")
    (site / "1-shared-packages.pth").write_text(next(Path(sys.prefix, "lib").glob("python3*/site-packages")).as_posix() + "\n")
    (folder / "venv" / "bin" / "alembic").symlink_to(Path(sys.executable).parent / "alembic")  # nbgrader runs it by name
    # nbconvert's templates (the feedback HTML) live under the environment's share/jupyter: without them the old
    # course's generate_feedback fails at once and its grading looks faster than it is
    (folder / "venv" / "share").mkdir(exist_ok=True)
    (folder / "venv" / "share" / "jupyter").symlink_to(Path(sys.prefix) / "share" / "jupyter")
    return folder / "venv" / "bin" / "python"


def course_copy(code: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for item in COURSE_FILES:
        source = code / item
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target / item)
    return target


def course(python: Path, root: Path, *args: str, log: Path) -> tuple[int, float]:
    """``python -m course --root ROOT ARGS`` from a neutral folder; (exit status, seconds)."""
    start = time.perf_counter()
    with open(log, "w") as out:
        done = subprocess.run([str(python), "-m", "course", "--root", str(root), *args], cwd=root.parent, stdout=out,
                              stderr=subprocess.STDOUT, env={**os.environ, "COURSE_DATA": "mnist5k"})
    if done.returncode not in (0, 1):  # 1: something needs attention, as the red team does
        raise RuntimeError(f"course {' '.join(args[:1])} failed ({done.returncode}):\n{log.read_text()[-3000:]}")
    return done.returncode, time.perf_counter() - start


def totals(root: Path, assignment: str) -> dict[str, float]:
    from fixtures.course_support import cell_points

    return {student: row["total"] for student, row in cell_points(root / "reports" / f"{assignment}-cells.csv").items()}


def reasons(root: Path) -> dict[str, str]:
    from fixtures.course_support import attention

    found: dict[str, list[str]] = {}
    for row in attention(root):
        found.setdefault(row["student"], []).append(row["reason"])
    return {student: "; ".join(rows) for student, rows in found.items()}


def red_team(pythons: dict[str, Path], codes: dict[str, Path], scratch: Path) -> dict:
    """The rewrite family graded by each course: points and attention, per attack."""
    from corpus import ASSIGNMENT, LIMITS, attacks, build

    outcome = {"expected": {}, "points": {}, "told": {}}
    for side, python in pythons.items():
        root = course_copy(codes[side], scratch / f"redteam-{side}" / "course-root")  # not "course": python -m course
        chosen = [a for a in attacks(root, "bench") if a.student in FAMILY]
        for attack in chosen:
            outcome["expected"][attack.student] = attack.total
            for path, data in build(root, attack).items():
                (root.parent / "class" / path).parent.mkdir(parents=True, exist_ok=True)
                (root.parent / "class" / path).write_bytes(data)
        say(f"  red team, {side}: grading {len(chosen)} submissions")
        options = [arg for pair in LIMITS.items() for arg in pair]
        course(python, root, "grade", str(root.parent / "class"), "--jobs", "2", *options, log=scratch / f"redteam-{side}.log")
        outcome["points"][side] = totals(root, ASSIGNMENT)
        outcome["told"][side] = reasons(root)
    return outcome


def examples_time(pythons: dict[str, Path], codes: dict[str, Path], scratch: Path, rounds: int) -> dict:
    """The twelve examples graded by each course, alternately; seconds and points per side."""
    seconds: dict[str, list[float]] = {side: [] for side in pythons}
    points: dict[str, dict] = {}
    for round_ in range(rounds):
        order = list(pythons.items())
        for side, python in (order if round_ % 2 == 0 else order[::-1]):  # ABBA: a drift in load hits both sides
            root = course_copy(codes[side], scratch / f"examples-{side}-{round_}" / "course-root")
            course(python, root, "examples", "--out", str(root.parent / "examples"), log=scratch / "examples.log")
            say(f"  examples, {side}, round {round_ + 1}: grading 12 submissions")
            status, elapsed = course(python, root, "grade", str(root.parent / "examples"), "--jobs", "2",
                                     log=scratch / f"examples-{side}-{round_}.log")
            log = (scratch / f"examples-{side}-{round_}.log").read_text()
            if "generate_feedback failed" in log:  # a run that skipped the feedback is not comparable
                raise SystemExit(f"{side}: nbgrader's feedback failed, see {scratch / f'examples-{side}-{round_}.log'}")
            say(f"    {elapsed:.1f} s (exit {status})")
            seconds[side].append(round(elapsed, 1))
            points[side] = {a: totals(root, a) for a in sorted(p.name for p in (root / "source_notebooks").iterdir())}
    ratio = (sum(seconds["after"]) / len(seconds["after"])) / (sum(seconds["before"]) / len(seconds["before"]))
    return {"seconds": seconds, "ratio": round(ratio, 3), "same_points": points["before"] == points["after"],
            "points": points}


def markdown(result: dict) -> str:
    lines = [f"# Hidden checks judged in the grader: before ({result['before']}) and after ({result['after']})", "",
             f"{result['machine']['date']}, {result['machine']['cpu']}, load {result['machine']['load_average']}.", ""]
    red = result.get("red_team")
    if red:
        rows = [[student, red["expected"][student], red["points"]["before"].get(student),
                 red["points"]["after"].get(student), red["told"]["after"].get(student, "")[:160]] for student in FAMILY]
        lines += ["## In-process rewrites (assignment 3, out of 30)", "",
                  table(["submission", "fair grade", "before", "after", "after: what the instructor is told"], rows), ""]
    timing = result.get("examples")
    if timing:
        lines += ["## Grading the 12 example submissions, --jobs 2", "",
                  table(["", "seconds per run", "mean"],
                        [[side, ", ".join(map(str, secs)), round(sum(secs) / len(secs), 1)]
                         for side, secs in timing["seconds"].items()]), "",
                  f"After / before: **{timing['ratio']:.3f}** (target at most 1.15); the same points for every "
                  f"example: {timing['same_points']}.", ""] + ([timing["note"], ""] if timing.get("note") else [])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="the commit to compare with (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=1, help="timed runs of the examples per side")
    parser.add_argument("--skip-time", action="store_true", help="only the red-team family")
    parser.add_argument("--skip-red-team", action="store_true", help="only the timing")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-checks-"))
    try:
        python = before_environment(args.before, scratch / "before")
        pythons = {"before": python, "after": Path(sys.executable)}
        codes = {"before": scratch / "before" / "code", "after": ROOT}
        result = {"machine": machine(), "before": args.before, "after": machine()["commit"]}
        if not args.skip_red_team:
            say("hidden checks: the red team's in-process rewrites, before and after")
            result["red_team"] = red_team(pythons, codes, scratch)
        if not args.skip_time:
            say("hidden checks: time to grade the 12 examples, before and after")
            result["examples"] = examples_time(pythons, codes, scratch, args.rounds)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(scratch / "before" / "code")], cwd=ROOT,
                       capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    earlier = load("hidden-checks") or {}  # a part skipped in this run keeps its last measurement
    result = {**{k: earlier[k] for k in ("red_team", "examples") if k in earlier and k not in result}, **result}
    save("hidden-checks", result)
    (RESULTS / "hidden-checks.md").write_text(markdown(result))
    say(f"wrote {RESULTS / 'hidden-checks.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
