"""The course gradebook read once for exporting: students, their scores per assignment, points per test cell.

Scores are nbgrader's own (``SubmittedAssignment.score``: a person's manual score, from
``course override`` or the formgrader, wins over the autograder's), so every export shows
what the formgrader shows. A student without a submission of an assignment has no score
for it (None), which the exports write as empty or 0 (``--missing``).
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator


class GradebookError(ValueError):
    """The gradebook is missing, or lacks what was asked for: the message names the fix."""


@contextmanager
def open_gradebook(db_url: str) -> Iterator:
    """nbgrader's Gradebook on ``db_url``, closed afterwards, without the warnings of its own session use."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    from course.nbgrader_api import ensure_tools_on_path

    ensure_tools_on_path()  # nbgrader runs `alembic` by name when it creates a database
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's relationship definitions; harmless, and noisy
        with Gradebook(db_url) as gb:
            yield gb


def existing_gradebook(db_url: str) -> str:
    """``db_url`` after checking that a SQLite gradebook is there (nbgrader would create an empty one)."""
    if db_url.startswith("sqlite:///"):
        path = Path(db_url.removeprefix("sqlite:///"))
        if not path.is_file():
            raise GradebookError(f"no gradebook at {path}: grade some submissions first (`course grade`), or pass --db URL")
    return db_url


def key_of(value: str | None) -> str:
    """An identity compared the way LMS logins are: spaces around and letter case ignored."""
    return (value or "").strip().casefold()


def number(points: float) -> str:
    """Points as people and LMS imports read them: at most two decimals, no exponent, no trailing zeros."""
    text = f"{points:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class StudentGrades:
    """One student of the gradebook: who (as nbgrader records them) and the score of every submission."""

    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""
    scores: dict[str, float] = field(default_factory=dict)  # assignment -> points, submitted assignments only

    def keys(self) -> set[str]:
        """Every identity an LMS may know this student by: the course's id, the e-mail and the LMS id on record."""
        return {key_of(v) for v in (self.id, self.email, self.lms_user_id)} - {""}

    def identity(self, kind: str) -> str:
        """The value for an LMS identity field (``email``, ``idnumber``, ``username``); '' when unknown."""
        if kind == "email":
            return self.email or (self.id if "@" in self.id else "")
        if kind == "idnumber":
            return self.lms_user_id or self.id
        return self.id

    def sortable_name(self) -> str:
        """"Last, First" as Canvas lists students, else the id."""
        return ", ".join(n for n in (self.last_name, self.first_name) if n) or self.id


@dataclass(frozen=True)
class GradeTable:
    """What the exports need from the gradebook, read in one go."""

    assignments: tuple[str, ...]
    max_scores: dict[str, float]
    students: tuple[StudentGrades, ...]
    cells: dict[tuple[str, str], tuple[tuple[str, float, float], ...]]  # (student, assignment) -> (cell, points, max)

    def comment(self, student: str, assignment: str) -> str:
        """A feedback line: the total and the points of every test cell (names and points only, no test code)."""
        cells = self.cells.get((student, assignment), ())
        total = sum(points for _, points, _ in cells)
        parts = ", ".join(f"{cell} {number(points)}/{number(top)}" for cell, points, top in cells)
        return f"{number(total)}/{number(self.max_scores[assignment])} points: {parts}"


def load_grade_table(db_url: str, assignments: list[str] | None = None) -> GradeTable:
    """Every student and submission of the gradebook (or of ``assignments``), sorted by student id."""
    with open_gradebook(existing_gradebook(db_url)) as gb:
        known = sorted(a.name for a in gb.assignments)
        unknown = [a for a in assignments or [] if a not in known]
        if unknown:
            raise GradebookError(f"the gradebook has no assignment {', '.join(map(repr, unknown))}; "
                             f"it has {', '.join(known) or 'none yet'}")
        chosen = tuple(a for a in known if a in assignments) if assignments else tuple(known)
        max_scores = {a: float(gb.find_assignment(a).max_score) for a in chosen}
        scores: dict[str, list[tuple[str, float]]] = {}
        cells = {}
        for assignment in chosen:
            for submission in gb.assignment_submissions(assignment):
                student = submission.student.id
                scores.setdefault(student, []).append((assignment, float(submission.score)))
                cells[(student, assignment)] = tuple(
                    (grade.name, float(grade.score or 0.0), float(grade.max_score))
                    for notebook in sorted(submission.notebooks, key=lambda nb: nb.name) for grade in notebook.grades)
        students = tuple(
            StudentGrades(s.id, s.first_name or "", s.last_name or "", s.email or "", s.lms_user_id or "",
                          dict(scores.get(s.id, ())))
            for s in sorted(gb.students, key=lambda s: s.id))
    return GradeTable(chosen, max_scores, students, cells)
