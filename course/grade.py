"""``course grade SUBMISSIONS``: copy in, grade in parallel sandboxes, import, export, summarise.

1. find the submissions (:mod:`course.collect`) and copy each notebook, byte for byte, to
   ``submitted/<student>/<assignment>/`` (the originals are only read);
2. per assignment, once: a template scratch gradebook and the Colab release notebook
   (what a student started from), and the assignment's cells in the course gradebook;
3. grade every submission in its own process and scratch course, ``--jobs`` at a time
   (:mod:`course.autograde`); each kernel uses one thread, so ``--jobs`` changes the time,
   never the grades; a process that outlives its limit is killed with its sandbox;
4. import the results into the course gradebook one by one (the only writer), copy the
   graded notebooks and feedback, export ``grades.csv`` and ``reports/<assignment>-cells.csv``;
5. print a table while it runs and a summary of what needs attention; the exit status is
   1 exactly when something does.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from course.autograde import GradeResult, GradeSettings, ensure_tools_on_path, prepare_template, worker_process
from course.collect import Rejected, Submission, collect
from course.config import CourseConfig
from course.gradebook import copy_outputs, export_cells, export_grades, record_attention, register_assignment, store_result
from course.release import colab_release

STARTUP_ALLOWANCE = 300  # s on top of the notebook limit: imports, kernel start, feedback


@dataclass(frozen=True)
class Prepared:
    """What every submission of one assignment is graded against."""

    source: Path  # source_notebooks/<assignment>
    release: dict[str, Path]  # notebook file name -> the student version (with the Colab cells)
    template_db: Path


def prepare(config: CourseConfig, assignment: str, scratch: Path, db_url: str) -> Prepared:
    """Template gradebook, release notebooks and the course gradebook's record of the assignment."""
    folder = scratch / "templates" / assignment
    template_db = prepare_template(config.source / assignment, folder)
    release = {}
    for name, data in colab_release(config, assignment, folder / "release" / assignment).items():
        if name.endswith(".ipynb"):
            release[name] = folder / "student" / name
            release[name].parent.mkdir(parents=True, exist_ok=True)
            release[name].write_bytes(data)
    register_assignment(db_url, config.root, assignment, scratch / "register" / assignment)
    return Prepared(config.source / assignment, release, template_db)


def copy_in(config: CourseConfig, submission: Submission) -> Path:
    """Copy the submitted bytes to submitted/<student>/<assignment>/<notebook> (replacing the old)."""
    folder = config.root / "submitted" / submission.student / submission.assignment
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / submission.notebook).write_bytes(submission.data)
    return folder / submission.notebook


def worker_context():
    """Processes forked from a server that imported nbgrader once (importing it takes ~4 s each time)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["course.autograde", "course.execute", "course.submissions", "nbgrader.apps"])
    return context


def run_worker(spec: dict, timeout: float, context) -> GradeResult:
    """Grade one submission in a fresh process; kill it (and its sandbox) when it runs too long."""
    scratch = Path(spec["scratch"])
    (scratch / "spec.json").write_text(json.dumps(spec))
    process = context.Process(target=worker_process, args=(str(scratch / "spec.json"),))
    process.start()
    process.join(timeout)
    if process.is_alive():
        os.killpg(process.pid, signal.SIGKILL)  # its own session: the kernel and sandbox go too
        process.join()
    result_file = Path(spec["result"])
    if result_file.exists():
        return GradeResult.from_json(result_file.read_text())
    log = scratch / "worker.log"
    tail = (log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []) or ["no output"]
    reason = (f"grading did not finish within {int(timeout)} s" if process.exitcode == -signal.SIGKILL
              else f"the grader crashed ({tail[0][:200]})")
    return GradeResult(spec["student"], spec["assignment"], Path(spec["release_notebook"]).stem,
                       attention=[f"not graded: {reason}"])


def worker_spec(submission: Submission, copied: Path, prepared: Prepared, scratch: Path,
                settings: GradeSettings) -> dict:
    """What the worker process needs to grade one submission."""
    scratch.mkdir(parents=True)
    return {
        "submission": str(copied), "student": submission.student, "assignment": submission.assignment,
        "source_assignment": str(prepared.source), "release_notebook": str(prepared.release[submission.notebook]),
        "scratch": str(scratch), "template_db": str(prepared.template_db), "settings": asdict(settings),
        "result": str(scratch / "result.json"),
    }


def attention_rows(result: GradeResult, note: str) -> list[dict]:
    """The reasons one submission needs the instructor, as rows of reports/attention.csv."""
    reasons = ([note] if note else []) + result.attention
    return [{"assignment": result.assignment, "student": result.student, "reason": r} for r in reasons]


def rejected_rows(rejected: list[Rejected]) -> list[dict]:
    """Attention rows for files that could not be graded at all."""
    return [{"assignment": r.assignment, "student": r.student, "reason": f"{r.origin}: {r.reason}"} for r in rejected]


def table_row(result: GradeResult, note: str = "") -> str:
    """One line of the grade table."""
    score = "-" if result.points is None else f"{result.score:g}/{result.max_score:g}"
    status = "needs attention" if (result.attention or note) else "ok"
    return f"{result.student:<24} {result.assignment:<34} {score:>9}  {status}"


TABLE_HEADER = f"{'student':<24} {'assignment':<34} {'points':>9}  status"


def grade_all(config: CourseConfig, submissions: list[Submission], settings: GradeSettings, jobs: int,
              db_url: str, scratch: Path) -> list[tuple[Submission, GradeResult]]:
    """Grade every submission (``jobs`` at a time), importing each result as it arrives."""
    from tqdm import tqdm

    prepared = {a: prepare(config, a, scratch, db_url) for a in sorted({s.assignment for s in submissions})}
    specs = [worker_spec(s, copy_in(config, s), prepared[s.assignment], scratch / f"{i:04d}-{s.student}-{s.assignment}",
                         settings) for i, s in enumerate(submissions)]
    timeout = settings.notebook_timeout + STARTUP_ALLOWANCE
    done = []
    print(TABLE_HEADER)
    context = worker_context()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool, \
            tqdm(total=len(specs), desc="grading", unit="notebook", file=sys.stderr) as bar:
        futures = {pool.submit(run_worker, spec, timeout, context): submission
                   for spec, submission in zip(specs, submissions)}
        for future in as_completed(futures):
            submission, result = futures[future], future.result()
            store_result(db_url, result)  # the main thread is the gradebook's only writer
            copy_outputs(result, config.root)
            bar.write(table_row(result, submission.note), file=sys.stdout)
            bar.update(1)
            done.append((submission, result))
    return sorted(done, key=lambda pair: (pair[1].assignment, pair[1].student))


def summarise(config: CourseConfig, graded: list[tuple[Submission, GradeResult]], rejected: list[Rejected],
              ignored: list[str]) -> int:
    """Print what needs attention and where everything is; 1 when something needs attention."""
    needs = [(f"{r.student}/{r.assignment}", reason) for s, r in graded for reason in ([s.note] if s.note else []) + r.attention]
    needs += [(r.origin, r.reason) for r in rejected]
    print(f"\n{len(graded)} submissions graded, {len(rejected)} files not gradable, {len(ignored)} other files ignored")
    if ignored:
        print("ignored (only notebooks are graded): " + ", ".join(ignored[:10]) + (" ..." if len(ignored) > 10 else ""))
    if needs:
        print(f"\n{len(needs)} problems need attention:")
        for who, reason in needs:
            print(f"  {who}: {reason}")
    print(f"\ngrades:     {config.root / 'grades.csv'}\nper cell:   {config.reports}/<assignment>-cells.csv"
          f"\nfeedback:   {config.root / 'feedback'}/<student>/<assignment>/\nattention:  {config.reports / 'attention.csv'}")
    return 1 if needs else 0


INSTALL_HINT = ("install bubblewrap: `sudo apt-get install bubblewrap` on Debian/Ubuntu (`make sysdeps` as root), "
                "`sudo dnf install bubblewrap` on Fedora; it needs unprivileged user namespaces or root")
UNSANDBOXED = "graded WITHOUT the sandbox (--no-sandbox): the student's code ran with the grader's rights"
ALL_SUBMISSIONS = "(all submissions)"


def sandbox_problem(scratch: Path, course_root: Path | None = None) -> str | None:
    """Why the sandbox cannot work on this machine, or None when it does."""
    from course.sandbox import bwrap_path, probe

    return "bubblewrap (bwrap) is not installed" if bwrap_path() is None else probe(scratch, course_root)


def checked_sandbox(settings: GradeSettings, scratch: Path, course_root: Path | None = None,
                    trusted: bool = False) -> GradeSettings | None:
    """The settings to grade with, or None (after saying why) when grading would not be safe.

    Untrusted code is never run outside the sandbox unless the instructor said so
    (``--no-sandbox``); ``trusted`` notebooks (the course's own examples) fall back to
    running without it after a warning.
    """
    if not settings.sandbox:
        print(f"warning: {UNSANDBOXED}", file=sys.stderr)
        return settings
    problem = sandbox_problem(scratch, course_root)
    if problem is None:
        return settings
    if trusted:
        print(f"warning: grading the course's own examples without the sandbox: {problem}", file=sys.stderr)
        return replace(settings, sandbox=False)
    print(f"error: the grading sandbox does not work here: {problem}.\nTo grade students' code safely, {INSTALL_HINT}."
          "\nTo grade trusted notebooks anyway, add --no-sandbox.", file=sys.stderr)
    return None


def unsandboxed_rows(settings: GradeSettings, assignments: set[str]) -> list[dict]:
    """One attention row per assignment graded without the sandbox (shown by ``course report``)."""
    return [] if settings.sandbox else [
        {"assignment": a, "student": ALL_SUBMISSIONS, "reason": UNSANDBOXED} for a in sorted(assignments)]


def grade(config: CourseConfig, source: Path, settings: GradeSettings, jobs: int = 1, db_url: str | None = None,
          pattern: str | None = None, assignment: str | None = None, keep_scratch: bool = False,
          trusted: bool = False) -> int:
    """The whole ``course grade`` command; returns the exit status."""
    ensure_tools_on_path()
    db_url = db_url or config.db_url
    known = {a: sorted(p.name for p in (config.source / a).glob("*.ipynb")) for a in config.assignments()}
    if assignment and assignment not in known:
        print(f"error: unknown assignment {assignment!r}; known: {', '.join(sorted(known))}", file=sys.stderr)
        return 2
    submissions, rejected, ignored = collect(source, known, pattern or config.submission_pattern, assignment)
    scratch = Path(tempfile.mkdtemp(prefix="course-grade-"))
    checked = checked_sandbox(settings, scratch / "probe", config.root, trusted)
    if checked is None:
        shutil.rmtree(scratch, ignore_errors=True)
        return 2
    settings = checked
    try:
        graded = grade_all(config, submissions, settings, jobs, db_url, scratch) if submissions else []
    finally:
        if not keep_scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    export_grades(db_url, config.root / "grades.csv")
    for name in sorted({r.assignment for _, r in graded}):
        export_cells(db_url, name, config.reports / f"{name}-cells.csv")
    pairs = {(r.assignment, r.student) for _, r in graded} | {(r.assignment, r.student) for r in rejected}
    assignments = {a for a, _ in pairs}
    pairs |= {(a, ALL_SUBMISSIONS) for a in assignments}  # a sandboxed run clears an older warning
    rows = [row for s, r in graded for row in attention_rows(r, s.note)] + rejected_rows(rejected)
    rows += unsandboxed_rows(settings, assignments)
    record_attention(config.reports / "attention.csv", pairs, rows)
    if not settings.sandbox:
        print(f"\nwarning: {UNSANDBOXED}")
    return summarise(config, graded, rejected, ignored)
