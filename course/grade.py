"""``course grade SUBMISSIONS``: copy in, grade in parallel sandboxes, import, export.

The steps, in order (each needs the one before it):

1. find the submissions (:mod:`course.collect`; the originals are only ever read);
2. check, before any grading, that it can succeed: the gradebook database answers, the
   sandbox works (here, or on every Dask worker), a scratch folder short enough for the
   kernels' sockets exists;
3. per assignment, once: the bundle every submission is graded against (template
   gradebook, solved and released notebooks; built while step 2 probes the sandbox), and
   the assignment's cells in the course gradebook;
4. copy each notebook, byte for byte, to ``submitted/<student>/<assignment>/``, and leave
   out what the gradebook already holds grades of for the same bytes (unless ``force``);
5. grade every task in its own process and scratch course (:mod:`course.runner`), ``jobs``
   at a time here or on a Dask cluster (:mod:`course.cluster`); each kernel uses one
   thread, so the parallelism changes the time, never the grades;
6. import each result as it arrives, in this process only (:class:`GradebookWriter`);
7. export ``grades.csv`` and ``reports/<assignment>-cells.csv``, record what needs attention.

:func:`grade` returns a :class:`GradeOutcome`; the command line prints it.
"""
from __future__ import annotations

import secrets
import shutil
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from course.cluster import SlurmOptions
from course.collect import Rejected, Submission, collect
from course.config import CourseConfig
from course.gradebook import GradebookWriter, export_cells, export_grades, record_attention, register_assignment
from course.runner import ScratchTooLong, Start, forkserver_context, forkserver_start, run_task, scratch_root, unpack
from course.settings import DEFAULT_JOBS, GradeSettings
from course.tasks import AssignmentBundle, GradeResult, GradeTask

INSTALL_HINT = ("install bubblewrap: `sudo apt-get install bubblewrap` on Debian/Ubuntu (`make sysdeps` as root), "
                "`sudo dnf install bubblewrap` on Fedora; it needs unprivileged user namespaces or root")
UNSANDBOXED = "graded WITHOUT the sandbox (--no-sandbox): the student's code ran with the grader's rights"
ALL_SUBMISSIONS = "(all submissions)"


@dataclass(frozen=True)
class GradeRequest:
    """What ``course grade`` was asked to do."""

    submissions: Path  # a folder, a zip or a notebook
    settings: GradeSettings = GradeSettings()
    jobs: int = DEFAULT_JOBS  # submissions at once (local processes, or LocalCluster workers)
    db_url: str | None = None  # None: the course's gradebook.db
    pattern: str | None = None  # how LMS file names carry the student id (course.collect)
    assignment: str | None = None  # grade only this one
    cluster: str | None = None  # None: processes here; "local", "slurm" or a scheduler's address
    slurm: SlurmOptions | None = None  # the SLURM jobs of --cluster slurm
    force: bool = False  # grade again what the gradebook holds for the same bytes
    keep_scratch: bool = False
    trusted: bool = False  # the course's own examples: without bubblewrap, warn and grade anyway
    students: tuple[str, ...] = ()  # grade only these students (course regrade)
    seed: int | None = None  # the hidden checks' inputs; None: a new one for this run


@dataclass
class GradeOutcome:
    """What a grading run did: for the command line to print and for tests to read."""

    graded: list[tuple[Submission, GradeResult]] = field(default_factory=list)
    skipped: list[Submission] = field(default_factory=list)  # already graded with the same bytes
    rejected: list[Rejected] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # about the whole run (warnings)
    error: str | None = None  # set when nothing could be graded at all
    unsandboxed: bool = False
    attention: list[dict] = field(default_factory=list)  # the rows written to reports/attention.csv
    seed: int = 0  # the hidden checks drew their inputs with this seed

    @property
    def status(self) -> int:
        """2: refused before grading; 1: something needs the instructor; 0: all is well."""
        return 2 if self.error else 1 if self.attention else 0


def attention_rows(submission: Submission, result: GradeResult) -> list[dict]:
    """The reasons one submission needs the instructor, as rows of reports/attention.csv."""
    reasons = ([submission.note] if submission.note else []) + list(result.attention)
    return [{"assignment": result.assignment, "student": result.student, "reason": r} for r in reasons]


def rejected_rows(rejected: list[Rejected]) -> list[dict]:
    """Attention rows for files that could not be graded at all."""
    return [{"assignment": r.assignment, "student": r.student, "reason": f"{r.origin}: {r.reason}"} for r in rejected]


def sandbox_problem(scratch: Path, hidden: tuple[str, ...] = ()) -> str | None:
    """Why the sandbox cannot work on this machine, or None when it does."""
    from course.sandbox import bwrap_path, probe

    return "bubblewrap (bwrap) is not installed" if bwrap_path() is None else probe(scratch, hidden)


def refusal(problem: str) -> str:
    return (f"the grading sandbox does not work here: {problem}.\nTo grade students' code safely, {INSTALL_HINT}."
            "\nTo grade trusted notebooks anyway, add --no-sandbox.")


def checked_sandbox(settings: GradeSettings, scratch: Path, hidden: tuple[str, ...] = (),
                    trusted: bool = False) -> tuple[GradeSettings | None, str]:
    """The settings to grade with (None when grading would not be safe) and a warning or the refusal.

    Untrusted code is never run outside the sandbox unless the instructor said so
    (``--no-sandbox``); ``trusted`` notebooks (the course's own examples) fall back to
    running without it after a warning.
    """
    if not settings.sandbox:
        return settings, UNSANDBOXED
    problem = sandbox_problem(scratch, hidden)
    if problem is None:
        return settings, ""
    if trusted:
        return replace(settings, sandbox=False), f"grading the course's own examples without the sandbox: {problem}"
    return None, refusal(problem)


def build_bundle(config: CourseConfig, assignment: str, scratch: Path, seed: int = 0,
                 settings: GradeSettings = GradeSettings()) -> AssignmentBundle:
    """What every submission of ``assignment`` is graded against (nbgrader and the checks' references run once, here)."""
    from course.autograde import grader_data, prepare_template
    from course.checks import compute_references, load_checks, reference_namespace
    from course.release import colab_release

    folder = scratch / "templates" / assignment
    template_db = prepare_template(config.source / assignment, folder / "template")
    release = {name: data for name, data in colab_release(config, assignment, folder / "template" / "release" / "assignment").items()
               if name.endswith(".ipynb")}
    source = config.source / assignment
    files = {p.relative_to(source).as_posix(): p.read_bytes() for p in sorted(source.rglob("*"))
             if p.is_file() and "__pycache__" not in p.parts}
    checks = load_checks(source)
    with grader_data(settings):  # references are computed on the data the kernels see
        references = "" if checks is None else compute_references(
            checks, reference_namespace(next(source.glob("*.ipynb"))), seed)
    return AssignmentBundle(assignment, files, release, template_db.read_bytes(), seed, references)


def copy_in(config: CourseConfig, submission: Submission) -> None:
    """Copy the submitted bytes to submitted/<student>/<assignment>/<notebook> (replacing the old)."""
    folder = config.root / "submitted" / submission.student / submission.assignment
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / submission.notebook).write_bytes(submission.data)


def make_tasks(submissions: list[Submission], bundles: dict[str, AssignmentBundle],
               settings: GradeSettings) -> list[GradeTask]:
    """One task per submission; its key (and so its scratch folder) is a number, never the student id."""
    return [GradeTask(f"t{index:06d}", s.student, s.assignment, s.notebook, s.data, settings, bundles[s.assignment].key)
            for index, s in enumerate(submissions)]


Progress = Callable[[Submission, GradeResult], None]


def run_locally(tasks: list[GradeTask], bundles: dict[str, AssignmentBundle], jobs: int, scratch: Path,
                hidden: tuple[str, ...], start: Start):
    """Grade the tasks in processes here, ``jobs`` at a time; yields (task, result) as each finishes."""
    unpacked = {name: unpack(bundle, scratch) for name, bundle in bundles.items()}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(run_task, task, unpacked[task.assignment], scratch / task.key, start, hidden): task
                   for task in tasks}
        for future in as_completed(futures):
            yield futures[future], future.result()


def grade(config: CourseConfig, request: GradeRequest, progress: Progress | None = None) -> GradeOutcome:
    """The whole ``course grade`` command (see the module's steps); never prints."""
    from course.database import checked_url

    outcome = GradeOutcome()
    known = {a: sorted(p.name for p in (config.source / a).glob("*.ipynb")) for a in config.assignments()}
    if request.assignment and request.assignment not in known:
        outcome.error = f"unknown assignment {request.assignment!r}; known: {', '.join(sorted(known))}"
        return outcome
    submissions, outcome.rejected, outcome.ignored = collect(
        request.submissions, known, request.pattern or config.submission_pattern, request.assignment)
    if request.students:
        submissions = [s for s in submissions if s.student in request.students]
        outcome.rejected = [r for r in outcome.rejected if r.student in request.students]
    db_url, problem = checked_url(request.db_url, config.db_url)
    if problem:
        outcome.error = problem
        return outcome
    try:
        scratch, note = scratch_root()
    except ScratchTooLong as error:
        outcome.error = str(error)
        return outcome
    outcome.notes += [note] if note else []
    try:
        graded = grade_in(config, request, submissions, db_url, scratch, outcome, progress)
    finally:
        if not request.keep_scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    if outcome.error:
        return outcome
    finish(config, request, outcome, db_url, graded)
    return outcome


def grade_in(config: CourseConfig, request: GradeRequest, submissions: list[Submission], db_url: str,
             scratch: Path, outcome: GradeOutcome, progress: Progress | None) -> bool:
    """Steps 2 (sandbox) to 6 with ``scratch`` as the scratch root; False when it refused to grade."""
    from course import cluster

    hidden = (str(config.root),)
    try:
        client = cluster.connect(request.cluster, request.jobs, request.slurm) if request.cluster else None
    except cluster.ClusterError as error:
        outcome.error = str(error)
        return False
    try:
        assignments = sorted({s.assignment for s in submissions})
        outcome.seed = request.seed if request.seed is not None else secrets.randbelow(2**31)
        # Steps 2 and 3 side by side, each on a core of its own: the sandbox probe (a sandboxed Python that
        # imports torch, seconds), the local grading processes' server (it imports nbgrader and torch) and
        # the bundles (here). The bundles need only the data settings, which the sandbox check never changes;
        # when the sandbox is refused they are thrown away with the scratch folder.
        with ThreadPoolExecutor(max_workers=1) as background:
            checking = (background.submit(cluster.checked_sandbox, client, request.settings, request.trusted) if client
                        else background.submit(checked_sandbox, request.settings, scratch / "probe", hidden, request.trusted))
            start = forkserver_start(forkserver_context(scratch.parent)) if client is None and submissions else None
            bundles = {a: build_bundle(config, a, scratch, outcome.seed, request.settings) for a in assignments}
            settings, warning = checking.result()
        if settings is None:
            outcome.error = warning
            return False
        outcome.notes += [warning] if warning else []
        outcome.unsandboxed = not settings.sandbox
        for assignment in assignments:
            register_assignment(db_url, config.root, assignment, scratch / "register" / assignment)
        for submission in submissions:
            copy_in(config, submission)
        with GradebookWriter(db_url, config.root) as writer:
            every = make_tasks(submissions, bundles, settings)
            by_key = {task.key: submission for task, submission in zip(every, submissions)}
            tasks = to_grade(every, writer, request.force)
            pending = {task.key for task in tasks}
            outcome.skipped = [by_key[task.key] for task in every if task.key not in pending]
            results = (cluster.run_on_cluster(client, tasks, bundles, hidden) if client
                       else run_locally(tasks, bundles, request.jobs, scratch, hidden, start))
            for task, result in results:
                notes = writer.store(result, task.fingerprint)
                result = replace(result, attention=(*result.attention, *notes))
                outcome.graded.append((by_key[task.key], result))
                if progress is not None:
                    progress(by_key[task.key], result)
    finally:
        if client is not None:
            cluster.close(client)
    outcome.graded.sort(key=lambda pair: (pair[1].assignment, pair[1].student))
    return True


def to_grade(tasks: list[GradeTask], writer: GradebookWriter, force: bool) -> list[GradeTask]:
    """The tasks whose bytes the gradebook does not hold grades of yet (all of them with ``force``)."""
    if force:
        return tasks
    held = {a: writer.fingerprints(a) for a in {t.assignment for t in tasks}}
    return [t for t in tasks if held[t.assignment].get((t.student, t.notebook)) != t.fingerprint]


def finish(config: CourseConfig, request: GradeRequest, outcome: GradeOutcome, db_url: str, graded: bool) -> None:
    """Step 7: the CSV exports and the attention rows of everything this run looked at."""
    export_grades(db_url, config.root / "grades.csv")
    assignments = {r.assignment for _, r in outcome.graded} | {s.assignment for s in outcome.skipped}
    for name in sorted(assignments):
        export_cells(db_url, name, config.reports / f"{name}-cells.csv")
    pairs = {(r.assignment, r.student) for _, r in outcome.graded} | {(r.assignment, r.student) for r in outcome.rejected}
    touched = {a for a, _ in pairs}
    pairs |= {(a, ALL_SUBMISSIONS) for a in touched}  # a sandboxed run clears an older warning
    outcome.attention = [row for s, r in outcome.graded for row in attention_rows(s, r)] + rejected_rows(outcome.rejected)
    outcome.attention += [] if not outcome.unsandboxed else [
        {"assignment": a, "student": ALL_SUBMISSIONS, "reason": UNSANDBOXED} for a in sorted(touched)]
    record_attention(config.reports / "attention.csv", pairs, outcome.attention)


TABLE_HEADER = f"{'student':<24} {'assignment':<34} {'points':>9}  status"


def table_row(submission: Submission, result: GradeResult) -> str:
    """One line of the grade table printed while grading."""
    score = "-" if result.points is None else f"{result.score:g}/{result.max_score:g}"
    status = "needs attention" if (result.attention or submission.note) else "ok"
    return f"{result.student:<24} {result.assignment:<34} {score:>9}  {status}"


def summary(config: CourseConfig, outcome: GradeOutcome) -> str:
    """What the command prints at the end: counts, what needs attention, where everything is."""
    lines = [f"\n{len(outcome.graded)} submissions graded, {len(outcome.skipped)} already graded with the same bytes "
             f"(--force grades them again), {len(outcome.rejected)} files not gradable, {len(outcome.ignored)} other files ignored"]
    if outcome.ignored:
        lines.append("ignored (only notebooks are graded): " + ", ".join(outcome.ignored[:10])
                     + (" ..." if len(outcome.ignored) > 10 else ""))
    needs = [(f"{row['student'] or '(unknown student)'}/{row['assignment']}" if row["assignment"] else
              row["student"] or "(no student)", row["reason"]) for row in outcome.attention]
    if needs:
        lines.append(f"\n{len(needs)} problems need attention:")
        lines += [f"  {who}: {reason}" for who, reason in needs]
    lines.append(f"\ngrades:     {config.root / 'grades.csv'}\nper cell:   {config.reports}/<assignment>-cells.csv"
                 f"\nfeedback:   {config.root / 'feedback'}/<student>/<assignment>/"
                 f"\nattention:  {config.reports / 'attention.csv'} (grading logs in {config.reports / 'logs'}/)")
    if outcome.graded:
        lines.append(f"hidden checks: inputs drawn with seed {outcome.seed} (course grade --seed {outcome.seed} draws them again)")
    if outcome.unsandboxed:
        lines.append(f"\nwarning: {UNSANDBOXED}")
    return "\n".join(lines)
