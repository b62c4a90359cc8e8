"""The course gradebook: one writer imports each graded submission, then the CSV exports.

Submissions are graded in parallel, each in a scratch nbgrader course with its own SQLite
gradebook; nbgrader's SQLite gradebook does not take concurrent writers well, so only the
main process writes to the course gradebook (``gradebook.db``, or ``--db URL``), one
submission at a time, through nbgrader's Gradebook API. What it writes is the points
nbgrader computed in the scratch course, cell by cell: nothing is re-scored here.

A re-graded submission replaces that student's result for that assignment and nothing
else (the student's other assignments and the other students are untouched).
"""
from __future__ import annotations

import csv
import fcntl
import io
import os
import shutil
import warnings
from pathlib import Path

from course import ledger
from course.tasks import GradeResult

ATTENTION_FIELDS = ("assignment", "student", "reason")


def register_assignment(db_url: str, root: Path, assignment: str, scratch: Path) -> None:
    """Make the course gradebook know the assignment's notebooks and cells (generate_assignment).

    Several `course grade` runs may share one gradebook (graders on a PostgreSQL server):
    registrations (and the first creation of the gradebook's tables) take turns under the
    gradebook's lock, and one whose gradebook already records these very cells and points
    is skipped.
    """
    from course.database import gradebook_lock
    from course.nbgrader_api import course_config, generate_assignment
    from course.registration import already_registered, create_tables

    config = course_config(root, "source_notebooks", str(scratch), db_url)  # the real release/ is `course release`'s
    # nbgrader's Gradebook's own default; with nbgrader's "" the assignment refers to a course
    # that is never created, which PostgreSQL (enforcing foreign keys, unlike SQLite) refuses
    config.CourseDirectory.course_id = "default_course"
    with gradebook_lock(db_url):
        create_tables(db_url)
        if not already_registered(db_url, root / "source_notebooks" / assignment):
            generate_assignment(config, assignment)


class GradebookWriter:
    """The single writer: the course gradebook kept open, one transaction per graded submission.

    Each submission's outputs (graded notebook, feedback, the grading log when something
    went wrong) are written first, then its points, its entry in the ledger of graded bytes
    (:mod:`course.ledger`) and the removal of manual overrides of earlier bytes, in one
    commit: a run killed at any moment leaves the gradebook without a half-written row.
    """

    def __init__(self, db_url: str, root: Path):
        self.db_url, self.root = db_url, root

    def __enter__(self) -> "GradebookWriter":
        from nbgrader.api import Gradebook

        self.gradebook = Gradebook(self.db_url)
        ledger.ensure_table(self.gradebook.engine)
        return self

    def __exit__(self, *exc) -> None:
        self.gradebook.close()

    def fingerprints(self, assignment: str) -> dict[tuple[str, str], str]:
        """(student, notebook file name) -> fingerprint of what the gradebook holds grades of."""
        return {(s, f"{n}.ipynb"): f for (s, n), f in ledger.fingerprints(self.gradebook.db, assignment).items()}

    def store(self, result: GradeResult, fingerprint: str) -> list[str]:
        """Write one graded submission; returns notes for the instructor (manual overrides dropped)."""
        from sqlalchemy.exc import SAWarning

        from course.overrides import clear_overrides

        write_outputs(result, self.root)
        gb = self.gradebook
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)  # nbgrader's own session use; harmless, and noisy
            try:
                gb.update_or_create_student(result.student)
                gb.update_or_create_submission(result.assignment, result.student)
                dropped = clear_overrides(gb.db, result.student, result.assignment)
                set_scores(gb.find_submission_notebook(result.notebook, result.assignment, result.student), result)
                ledger.record(gb.db, result.student, result.assignment, result.notebook,
                              fingerprint if result.points is not None else "")
                gb.db.commit()
            except BaseException:
                gb.db.rollback()
                raise
        return [f"manual override of {o.cell} ({o.points:g} points) dropped: the submission was graded again"
                for o in dropped]


def set_scores(notebook, result: GradeResult) -> None:
    """The autograder's points on each grade cell (0 where it has none), and who needs a look.

    An ungraded notebook scores 0; either way a submission that needs attention is marked
    "needs manual grade", so nbgrader's formgrader lists it for review too.
    """
    for grade in notebook.grades:
        graded = result.points is not None and grade.name in result.points
        grade.auto_score = result.points[grade.name] if graded else 0.0
        grade.manual_score = None
        grade.extra_credit = None
        grade.needs_manual_grade = not graded or bool(result.attention)


def write_outputs(result: GradeResult, root: Path) -> None:
    """The graded notebook and the feedback into autograded/ and feedback/, the log into reports/logs/."""
    name = result.notebook
    for kind, produced, file in (("autograded", result.autograded, f"{name}.ipynb"),
                                 ("feedback", result.feedback, f"{name}.html")):
        folder = root / kind / result.student / result.assignment
        if folder.exists():
            shutil.rmtree(folder)
        if produced is not None:
            folder.mkdir(parents=True)
            (folder / file).write_bytes(produced)
    log = log_path(root, result.assignment, result.student)
    if result.log:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(result.log)
    elif log.exists():
        log.unlink()


def log_path(root: Path, assignment: str, student: str) -> Path:
    """Where the grading log of a submission that went wrong is kept (nbgrader's whole output)."""
    return root / "reports" / "logs" / assignment / f"{student}.log"


def export_grades(db_url: str, destination: Path) -> None:
    """grades.csv, by nbgrader's own CSV export (one row per student and assignment)."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    plugin = CsvExportPlugin()
    partial = destination.with_name(f".{destination.name}.{os.getpid()}")
    plugin.to = str(partial)
    with Gradebook(db_url) as gb:
        plugin.export(gb)
    partial.replace(destination)  # another grader exporting at the same time never sees half a file


def cell_table(db_url: str, assignment: str) -> tuple[list[str], list[dict]]:
    """Points per grade cell for every student with a submission: (columns, rows)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        cells = [cell.name for notebook in gb.find_assignment(assignment).notebooks for cell in notebook.grade_cells]
        rows = []
        for submission in sorted(gb.assignment_submissions(assignment), key=lambda s: s.student.id):
            scores = {grade.name: grade.score for notebook in submission.notebooks for grade in notebook.grades}
            rows.append({"student": submission.student.id, **scores,
                         "total": submission.score, "max": submission.max_score})
    return ["student", *cells, "total", "max"], rows


def csv_text(columns: list[str] | tuple[str, ...], rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_atomically(destination: Path, text: str) -> None:
    """Replace ``destination`` in one step: readers see the old file or the new one, never a mix."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.{os.getpid()}")
    partial.write_text(text)
    partial.replace(destination)


def export_cells(db_url: str, assignment: str, destination: Path) -> None:
    """The per-exercise CSV: one row per student, one column per grade cell, then total and max."""
    write_atomically(destination, csv_text(*cell_table(db_url, assignment)))


def read_attention(path: Path) -> list[dict]:
    """The recorded reasons for manual attention (assignment, student, reason)."""
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def record_attention(path: Path, graded: set[tuple[str, str]], reasons: list[dict]) -> None:
    """Replace the attention rows of the (assignment, student) pairs just graded; keep the rest.

    Two `course grade` runs in the same course may finish together: the file is read and
    replaced under a lock of its own.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        kept = [row for row in read_attention(path) if (row["assignment"], row["student"]) not in graded]
        rows = sorted(kept + reasons, key=lambda r: (r["assignment"], r["student"], r["reason"]))
        write_atomically(path, csv_text(ATTENTION_FIELDS, rows))
