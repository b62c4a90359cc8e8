"""The red team before and after: plain ``nbgrader autograde`` against ``course grade`` on the same corpus.

    python tests/redteam/compare.py [--out tests/redteam/RESULTS.md] [--overhead]

Builds the corpus of tests/redteam/corpus.py in two throw-away copies of the course, grades
one with nbgrader 0.9.6 as it comes (one process, kernels run as the grader, in the
submission's folder) and the other with ``course grade --jobs 2`` and the red-team limits,
and writes a table: expected points, points under each, what the instructor is told.
Plain nbgrader runs hostile code unconfined, so every attack in the corpus is bounded on
its own (see corpus.py); the throw-away course is deleted afterwards.

``--overhead`` also grades the example submissions (``course examples``) with and without
the sandbox, alternately, and reports the time ratio.
"""
from __future__ import annotations

import argparse
import datetime
import os
import re
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
from corpus import ASSIGNMENT, LIMITS, attacks, build  # noqa: E402
from fixtures.course_support import REPO, attention, cell_points, outputs_text, run_course  # noqa: E402
from test_redteam import redteam_course  # noqa: E402


def write_class(root: Path, folder: Path, marker: str) -> list:
    """The corpus of assignment 3 as files under ``folder``: <student>/<assignment>/<notebook>."""
    corpus = [attack for attack in attacks(root, marker) if attack.assignment == ASSIGNMENT]
    for attack in corpus:
        for path, data in build(root, attack).items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(data)
    return corpus


# What the hostile code itself printed about how far it got.
EVIDENCE = re.compile(r"forked \d+ children|memory: (got|refused|tensor refused)[^\n]*|disk: \w+( after)? \d+ MiB"
                      r"|network: (reached|no route to) \S+|sees the source notebooks: \w+|wrote \S+|could not write"
                      r"|left a process behind")


def evidence(root: Path) -> dict[str, str]:
    """Per student, the lines of EVIDENCE in the autograded notebook."""
    found = {}
    for notebook in (root / "autograded").glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"):
        text = outputs_text(notebook)
        found[notebook.parent.parent.name] = "; ".join(dict.fromkeys(m.group(0) for m in EVIDENCE.finditer(text)))
    return found


def plain_nbgrader(base: Path, marker: str) -> tuple[dict[str, str], dict[str, str]]:
    """Points per student under plain nbgrader (or why it could not grade), and what the code printed."""
    root = redteam_course(base / "plain")
    shutil.copy(REPO / "nbgrader_config.py", root)
    nbgrader = [str(Path(sys.executable).parent / "nbgrader")]
    env = {**os.environ, "COURSE_DATA": "mnist5k", "OMP_NUM_THREADS": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # nbgrader runs alembic
    run = lambda *args, timeout=3600: subprocess.run([*nbgrader, *args], cwd=root, env=env, capture_output=True,  # noqa: E731
                                                    text=True, timeout=timeout)
    corpus = write_class(root, root / "submitted", marker)  # from the release students got, before
    generated = run("generate_assignment", ASSIGNMENT, "--force")  # nbgrader writes its own release/
    assert generated.returncode == 0, generated.stderr[-2000:]
    started, failures = time.monotonic(), {}
    try:
        for attack in corpus:  # one process each: one broken submission must not stop nbgrader for the rest
            try:
                done = run("autograde", ASSIGNMENT, "--force", "--student", attack.student,
                           f"--Execute.timeout={LIMITS['--timeout']}", timeout=900)
                failures[attack.student] = "" if done.returncode == 0 else (
                    [line for line in done.stderr.splitlines() if "Error" in line] or ["nbgrader failed"])[-1][:120]
            except subprocess.TimeoutExpired:
                failures[attack.student] = "nbgrader did not finish in 900 s"
    finally:
        subprocess.run(["pkill", "-9", "-f", marker])
    print(f"plain nbgrader: {time.monotonic() - started:.0f} s", file=sys.stderr)
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for attack in corpus:
            try:
                submission = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, attack.student)
                scores[attack.student] = f"{submission.score:g}"
            except MissingEntry:
                scores[attack.student] = f"not graded ({failures.get(attack.student) or 'no record'})"
    vandalised = [p.relative_to(root).as_posix() for p in (root / "canary.txt", root / "release") if p.exists()
                  and (p.is_file() or any(b"vandalised" in f.read_bytes() for f in p.rglob("*.ipynb")))]
    scores["(vandalised)"] = ", ".join(vandalised) or "nothing"
    return scores, evidence(root)


def course_grade(base: Path, marker: str) -> tuple[dict[str, str], dict[str, str], dict[str, str], float]:
    """Points, attention and what the code printed per student under ``course grade``, and the run's seconds."""
    root = redteam_course(base / "sandboxed")
    write_class(root, base / "class", marker)
    options = [arg for pair in LIMITS.items() for arg in pair]
    started = time.monotonic()
    try:
        run_course(root, "grade", str(base / "class"), "--jobs", "2", *options, timeout=3600)
    finally:
        subprocess.run(["pkill", "-9", "-f", marker])
    seconds = time.monotonic() - started
    points = {s: f"{p['total']:g}" for s, p in cell_points(root / "reports" / f"{ASSIGNMENT}-cells.csv").items()}
    reasons: dict[str, list[str]] = {}
    for row in attention(root):
        reasons.setdefault(row["student"], []).append(row["reason"])
    return points, {s: "; ".join(r) for s, r in reasons.items()}, evidence(root), seconds


def overhead(base: Path, rounds: int = 1) -> list[tuple[float, float]]:
    """Seconds to grade the example submissions with and without the sandbox, alternately."""
    root = redteam_course(base / "overhead")
    assert run_course(root, "examples").returncode == 0
    times = []
    for _ in range(rounds):
        pair, grades = [], []
        for extra in ([], ["--no-sandbox"]):
            started = time.monotonic()
            run_course(root, "grade", str(root / "examples"), "--jobs", "2", *extra, timeout=3600)
            pair.append(time.monotonic() - started)
            grades.append({csv.name: cell_points(csv) for csv in sorted((root / "reports").glob("*-cells.csv"))})
        assert grades[0] == grades[1], "the sandbox changed a grade"  # it may cost time, never points
        times.append((pair[0], pair[1]))
    return times


def overhead_section(times: list[tuple[float, float]]) -> list[str]:
    if not times:
        return []
    ratios = [with_ / without for with_, without in times]
    lines = ["", "## Cost of the sandbox", "",
             f"{datetime.date.today().isoformat()}: grading the 12 example submissions (`course examples`), `--jobs 2`, "
             "alternately with and without the sandbox (`python tests/redteam/compare.py --overhead-only`):", "",
             "| with sandbox (s) | --no-sandbox (s) | ratio |", "| --- | --- | --- |"]
    lines += [f"| {a:.1f} | {b:.1f} | {a / b:.3f} |" for a, b in times]
    return lines + ["", f"Overhead of the sandbox: {100 * (sum(ratios) / len(ratios) - 1):+.1f} % of the grading time; "
                    "the grades, cell by cell, are the same with and without it."]


def table(before: dict[str, str], after: dict[str, str], reasons: dict[str, str], seen: tuple[dict, dict],
          root: Path) -> str:
    lines = ["| submission | attack | fair grade | plain nbgrader | course grade | the code reported (plain / course grade) "
             "| the instructor is told |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for attack in [a for a in attacks(root, "marker") if a.assignment == ASSIGNMENT]:
        fair = "not graded (0)" if attack.total is None else f"{attack.total:g}"
        told = reasons.get(attack.student, "").replace("|", "\\|")[:220]
        reported = " / ".join(side.get(attack.student) or "-" for side in seen) if attack.printed else ""
        lines.append(f"| {attack.student} | {attack.what} | {fair} | {before.get(attack.student, '?')} | "
                     f"{after.get(attack.student, '?')} | {reported} | {told} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--overhead", action="store_true", help="also time the examples with and without the sandbox")
    parser.add_argument("--overhead-only", action="store_true",
                        help="only time the examples, and replace that section of --out")
    parser.add_argument("--rounds", type=int, default=1, help="with and without the sandbox, alternately, this often")
    args = parser.parse_args()
    if args.overhead_only:
        base = Path(tempfile.mkdtemp(prefix="redteam-compare-"))
        try:
            times = overhead(base, args.rounds)
        finally:
            shutil.rmtree(base, ignore_errors=True)
        kept = args.out.read_text().split("\n## Cost of the sandbox")[0].rstrip("\n").split("\n")
        args.out.write_text("\n".join(kept + overhead_section(times)) + "\n")
        print(f"written to {args.out}")
        return 0
    marker = f"redteam-{uuid.uuid4().hex[:12]}"
    base = Path(tempfile.mkdtemp(prefix="redteam-compare-"))
    try:
        before, seen_before = plain_nbgrader(base, marker)
        after, reasons, seen_after, seconds = course_grade(base, marker)
        times = overhead(base, args.rounds) if args.overhead else []
    finally:
        shutil.rmtree(base, ignore_errors=True)
    import torch

    report = [
        "# Red team: plain nbgrader vs course grade", "",
        f"{datetime.date.today().isoformat()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, torch {torch.__version__}, assignment {ASSIGNMENT} on mnist5k. "
        "Regenerate with `python tests/redteam/compare.py`.", "",
        f"Every attack starts from an honest partial submission worth 22 of 30 points. Limits: "
        + ", ".join(f"`{k} {v}`" for k, v in LIMITS.items()) + f". `course grade --jobs 2` took {seconds:.0f} s "
        f"for the {len(after)} submissions.", "",
        table(before, after, reasons, (seen_before, seen_after), REPO), "",
        f"Files changed outside the students' copies under plain nbgrader: {before.get('(vandalised)')}; "
        "under course grade: nothing (tests/redteam/test_redteam.py hashes the course tree).",
    ]
    report += overhead_section(times)
    args.out.write_text("\n".join(report) + "\n")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
