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
import io
import shutil
import warnings
from pathlib import Path

from course.autograde import GradeResult

ATTENTION_FIELDS = ("assignment", "student", "reason")


def register_assignment(db_url: str, root: Path, assignment: str, scratch: Path) -> None:
    """Make the course gradebook know the assignment's notebooks and cells (generate_assignment)."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    from course.autograde import ensure_tools_on_path, nbgrader_log

    c = Config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.source_directory = "source_notebooks"
    c.CourseDirectory.release_directory = str(scratch)  # the real release/ is `course release`'s
    c.CourseDirectory.db_url = db_url
    ensure_tools_on_path()
    result = NbGraderAPI(config=c).generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(f"could not register {assignment} in the gradebook:\n{nbgrader_log(result)[-3000:]}")


def store_result(db_url: str, result: GradeResult) -> None:
    """Write one graded submission's points into the course gradebook.

    An ungraded notebook scores 0; either way a submission that needs attention is marked
    "needs manual grade", so nbgrader's formgrader lists it for review too.
    """
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    with Gradebook(db_url) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own session use; harmless, and noisy
        gb.update_or_create_student(result.student)
        gb.update_or_create_submission(result.assignment, result.student)
        notebook = gb.find_submission_notebook(result.notebook, result.assignment, result.student)
        for grade in notebook.grades:
            graded = result.points is not None and grade.name in result.points
            grade.auto_score = result.points[grade.name] if graded else 0.0
            grade.manual_score = None
            grade.extra_credit = None
            grade.needs_manual_grade = not graded or bool(result.attention)  # formgrader lists it for review
        gb.db.commit()


def copy_outputs(result: GradeResult, root: Path) -> None:
    """Copy the graded notebook and the feedback into autograded/ and feedback/ of the course."""
    for kind, produced in (("autograded", result.autograded), ("feedback", result.feedback)):
        folder = root / kind / result.student / result.assignment
        if folder.exists():
            shutil.rmtree(folder)
        if produced:
            folder.mkdir(parents=True)
            shutil.copy(produced, folder / Path(produced).name)


def export_grades(db_url: str, destination: Path) -> None:
    """grades.csv, by nbgrader's own CSV export (one row per student and assignment)."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    plugin = CsvExportPlugin()
    plugin.to = str(destination)
    with Gradebook(db_url) as gb:
        plugin.export(gb)


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


def export_cells(db_url: str, assignment: str, destination: Path) -> None:
    """The per-exercise CSV: one row per student, one column per grade cell, then total and max."""
    columns, rows = cell_table(db_url, assignment)
    destination.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    destination.write_text(buffer.getvalue())


def read_attention(path: Path) -> list[dict]:
    """The recorded reasons for manual attention (assignment, student, reason)."""
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def record_attention(path: Path, graded: set[tuple[str, str]], reasons: list[dict]) -> None:
    """Replace the attention rows of the (assignment, student) pairs just graded; keep the rest."""
    kept = [row for row in read_attention(path) if (row["assignment"], row["student"]) not in graded]
    rows = sorted(kept + reasons, key=lambda r: (r["assignment"], r["student"], r["reason"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=ATTENTION_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
