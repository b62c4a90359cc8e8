"""``course override``: a person's points for one test cell, kept with the reason, in the course gradebook.

The points are nbgrader's own manual score on that grade cell (``Grade.manual_score``,
which nbgrader's score prefers over the autograder's), so the formgrader, nbgrader's CSV
export, ``course report`` and ``course export`` all see them. The reason lives beside it
in a small table of the course's own, ``course_override``, in the same database and
written through SQLAlchemy, so it works on SQLite and PostgreSQL alike. One row per
(student, assignment, notebook, cell): overriding a cell again replaces the row.

Re-grading a submission (new bytes, or ``course grade --force``) resets its manual scores;
:func:`clear_overrides` drops the reasons with them, in the grader's own session.
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table, Text, UniqueConstraint, delete, inspect, select
from sqlalchemy.orm import Session

from course.grades import existing_gradebook, open_gradebook

TABLE_NAME = "course_override"
METADATA = MetaData()
OVERRIDES = Table(
    TABLE_NAME, METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("student", String(128), nullable=False),  # nbgrader's Student.id is String(128) too
    Column("assignment", String(128), nullable=False),
    Column("notebook", String(128), nullable=False),
    Column("cell", String(128), nullable=False),
    Column("points", Float, nullable=False),
    Column("auto_score", Float),  # what the autograder gave, for the record
    Column("reason", Text, nullable=False),
    Column("created", DateTime, nullable=False),
    UniqueConstraint("student", "assignment", "notebook", "cell", name="course_override_cell"),
)


class OverrideError(ValueError):
    """Bad input for an override: the message names the problem and the fix."""


@dataclass(frozen=True)
class Override:
    """One overridden test cell of one student's submission, and why."""

    student: str
    assignment: str
    notebook: str
    cell: str
    points: float
    max_points: float
    auto_score: float | None
    reason: str
    created: datetime
    in_effect: bool = True  # False when the gradebook's manual score no longer is these points

    def describe(self) -> str:
        """One line for people: who, which cell, the points, and why."""
        auto = "no automatic score" if self.auto_score is None else f"autograder: {self.auto_score:g}"
        stale = "" if self.in_effect else " [no longer in the gradebook: the submission was graded again]"
        return (f"{self.student}: {self.cell} set to {self.points:g}/{self.max_points:g} ({auto}) "
                f"on {self.created:%Y-%m-%d}: {self.reason}{stale}")


def _suggest(name: str, known: list[str], what: str) -> str:
    """``unknown <what> 'x'`` plus the nearest known names (or all of them, when few)."""
    close = difflib.get_close_matches(name, known, n=3)
    listed = close or known[:8]
    hint = (f"; did you mean {', '.join(listed)}?" if close else
            f"; known: {', '.join(listed)}{' ...' if len(known) > len(listed) else ''}" if known else "; there are none yet")
    return f"unknown {what} {name!r}{hint}"


def _find_grade(gb, student: str, assignment: str, cell: str, notebook: str | None):
    """The Grade row of ``cell`` in the student's submission, after checking each name in turn."""
    from nbgrader.api import MissingEntry

    try:
        gb.find_student(student)
    except MissingEntry:
        raise OverrideError(_suggest(student, sorted(s.id for s in gb.students), "student")) from None
    try:
        record = gb.find_assignment(assignment)
    except MissingEntry:
        raise OverrideError(_suggest(assignment, sorted(a.name for a in gb.assignments), "assignment")) from None
    try:
        submission = gb.find_submission(assignment, student)
    except MissingEntry:
        raise OverrideError(f"{student} has no graded submission of {assignment}: grade it first "
                            "(`course grade`), then override its cells") from None
    cells = sorted({c.name for nb in record.notebooks for c in nb.grade_cells})
    grades = [g for nb in submission.notebooks if notebook in (None, nb.name) for g in nb.grades if g.name == cell]
    if not grades:
        raise OverrideError(_suggest(cell, cells, f"test cell of {assignment}"))
    if len(grades) > 1:
        names = ", ".join(sorted(g.notebook.name for g in grades))
        raise OverrideError(f"{cell!r} is a test cell of several notebooks of {assignment} ({names}): name one with --notebook")
    return grades[0]


def _check_points(points: float, max_points: float, cell: str) -> None:
    if not math.isfinite(points) or not 0 <= points <= max_points:
        raise OverrideError(f"{points:g} points is outside {cell}'s range: give 0 to {max_points:g}")


def ensure_table(bind) -> None:
    """Create ``course_override`` in the gradebook database if it is not there yet."""
    METADATA.create_all(bind=bind, checkfirst=True)


def set_override(db_url: str, student: str, assignment: str, cell: str, points: float, reason: str,
                 notebook: str | None = None, now: datetime | None = None) -> Override:
    """Give ``student`` ``points`` on test cell ``cell`` of ``assignment`` (nbgrader's manual score), with the reason."""
    reason = " ".join(reason.split())
    if not reason:
        raise OverrideError("an override needs a reason (--reason TEXT): students and other graders will ask why")
    created = (now or datetime.now(timezone.utc)).replace(tzinfo=None, microsecond=0)  # UTC, naive on every database
    with open_gradebook(existing_gradebook(db_url)) as gb:
        grade = _find_grade(gb, student, assignment, cell, notebook)
        max_points = float(grade.max_score)
        _check_points(float(points), max_points, cell)
        ensure_table(gb.db.connection())  # in this session's transaction, not on a second connection
        key = dict(student=student, assignment=assignment, notebook=grade.notebook.name, cell=cell)
        gb.db.execute(delete(OVERRIDES).where(*[OVERRIDES.c[k] == v for k, v in key.items()]))
        gb.db.execute(OVERRIDES.insert().values(**key, points=float(points), auto_score=grade.auto_score,
                                                reason=reason, created=created))
        grade.manual_score = float(points)
        grade.needs_manual_grade = False  # as the formgrader does when a person enters a score
        gb.db.commit()
        return Override(student, assignment, key["notebook"], cell, float(points), max_points,
                        grade.auto_score, reason, created)


def remove_override(db_url: str, student: str, assignment: str, cell: str, notebook: str | None = None) -> Override | None:
    """Take an override back: the autograder's points count again. Returns what was removed (None: there was none)."""
    with open_gradebook(existing_gradebook(db_url)) as gb:
        grade = _find_grade(gb, student, assignment, cell, notebook)
        removed = [o for o in _rows(gb.db, assignment, student) if o.cell == cell and o.notebook == grade.notebook.name]
        if not removed and grade.manual_score is None:
            return None
        if removed:
            gb.db.execute(delete(OVERRIDES).where(
                OVERRIDES.c.student == student, OVERRIDES.c.assignment == assignment,
                OVERRIDES.c.notebook == grade.notebook.name, OVERRIDES.c.cell == cell))
        grade.manual_score = None
        grade.needs_manual_grade = grade.auto_score is None
        gb.db.commit()
        return removed[0] if removed else None


def _has_table(session: Session) -> bool:
    """Whether the reasons table exists, asked on the session's own connection (inside a caller's transaction)."""
    return inspect(session.connection()).has_table(TABLE_NAME)


def _rows(session: Session, assignment: str | None, student: str | None) -> Iterator[Override]:
    """The recorded overrides (optionally of one assignment / student), each with its cell's current state."""
    if not _has_table(session):
        return
    from nbgrader.api import Assignment, BaseCell, Grade, Notebook, SubmittedAssignment, SubmittedNotebook

    query = select(OVERRIDES).order_by(OVERRIDES.c.assignment, OVERRIDES.c.student, OVERRIDES.c.notebook, OVERRIDES.c.cell)
    if assignment is not None:
        query = query.where(OVERRIDES.c.assignment == assignment)
    if student is not None:
        query = query.where(OVERRIDES.c.student == student)
    for row in session.execute(query).mappings():
        grade = session.execute(
            select(Grade)
            .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
            .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
            .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
            .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
            .join(BaseCell, Grade.cell_id == BaseCell.id)
            .where(SubmittedAssignment.student_id == row["student"], Assignment.name == row["assignment"],
                   Notebook.name == row["notebook"], BaseCell.name == row["cell"])
        ).scalar_one_or_none()
        max_points = float(grade.max_score) if grade is not None else float("nan")
        in_effect = grade is not None and grade.manual_score == row["points"]
        yield Override(row["student"], row["assignment"], row["notebook"], row["cell"], row["points"], max_points,
                       row["auto_score"], row["reason"], row["created"], in_effect)


def list_overrides(db_url: str, assignment: str | None = None, student: str | None = None) -> list[Override]:
    """Every recorded override (of one assignment and/or student), oldest assignment and student first."""
    with open_gradebook(existing_gradebook(db_url)) as gb:
        return list(_rows(gb.db, assignment, student))


def clear_overrides(db: str | Session, student: str, assignment: str) -> list[Override]:
    """Drop the overrides of one submission and their manual scores (a re-grade replaces them).

    ``db`` is a gradebook URL, or the open session of nbgrader's ``Gradebook`` (``gb.db``)
    of a caller that is rewriting the submission: then the change joins that caller's
    transaction and the caller commits. Returns the overrides that were dropped.
    """
    if isinstance(db, str):
        with open_gradebook(existing_gradebook(db)) as gb:
            dropped = clear_overrides(gb.db, student, assignment)
            gb.db.commit()
            return dropped
    dropped = list(_rows(db, assignment, student))
    if not dropped:
        return []
    from nbgrader.api import Assignment, SubmittedAssignment

    submission = db.execute(select(SubmittedAssignment).join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                            .where(SubmittedAssignment.student_id == student, Assignment.name == assignment)).scalar_one_or_none()
    cells = {(o.notebook, o.cell) for o in dropped}
    for notebook in (submission.notebooks if submission is not None else []):
        for grade in notebook.grades:
            if (notebook.name, grade.name) in cells:
                grade.manual_score = None
                grade.needs_manual_grade = grade.auto_score is None
    db.execute(delete(OVERRIDES).where(OVERRIDES.c.student == student, OVERRIDES.c.assignment == assignment))
    return dropped


def apply_override(root: Path, db_url: str, student: str, assignment: str, cell: str, points: float | None,
                   reason: str, notebook: str | None = None, remove: bool = False) -> list[str]:
    """``course override``: set (or take back) the points, refresh grades.csv and the per-cell CSV; lines to print."""
    if remove:
        removed = remove_override(db_url, student, assignment, cell, notebook)
        lines = [f"removed: {removed.describe()}" if removed else
                 f"{student} had no override on {cell} of {assignment}: nothing changed"]
    else:
        if points is None:
            raise OverrideError("give the points for the cell (course override STUDENT ASSIGNMENT CELL POINTS "
                                "--reason TEXT), or --remove to take an override back")
        lines = [f"overridden: {set_override(db_url, student, assignment, cell, points, reason, notebook).describe()}"]
    lines += refresh_exports(root, db_url, assignment)
    return lines


def refresh_exports(root: Path, db_url: str, assignment: str) -> list[str]:
    """Rewrite the CSVs ``course grade`` wrote (grades.csv, reports/<assignment>-cells.csv) so they show the change."""
    from course.gradebook import export_cells, export_grades

    written = []
    if (root / "grades.csv").exists():
        export_grades(db_url, root / "grades.csv")
        written.append(root / "grades.csv")
    cells = root / "reports" / f"{assignment}-cells.csv"
    if cells.exists():
        export_cells(db_url, assignment, cells)
        written.append(cells)
    return [f"updated {path}" for path in written]
