"""Which submissions the gradebook already holds grades for, and of which bytes.

A table of the course's own (``course_graded``) in the same database as nbgrader's
gradebook, SQLite or PostgreSQL alike, so that every grader sharing the gradebook sees it:
one row per student, assignment and notebook, with the fingerprint of what was graded
(:attr:`course.tasks.GradeTask.fingerprint`: the submitted bytes, the solved and released
notebooks, the grading settings). The row is written in the same transaction as the
grades, so a grading run killed at any moment leaves either both or neither; running it
again grades only what is missing or changed.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, MetaData, String, Table, select

METADATA = MetaData()
GRADED = Table(
    "course_graded", METADATA,
    Column("student", String(128), primary_key=True),
    Column("assignment", String(128), primary_key=True),
    Column("notebook", String(128), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("graded_at", DateTime, nullable=False),
)


def ensure_table(engine) -> None:
    """Create the table where it is missing (a gradebook made by nbgrader alone has none)."""
    METADATA.create_all(engine, tables=[GRADED])


def fingerprints(session, assignment: str) -> dict[tuple[str, str], str]:
    """(student, notebook) -> fingerprint of what is graded for ``assignment``."""
    rows = session.execute(select(GRADED).where(GRADED.c.assignment == assignment))
    return {(row.student, row.notebook): row.fingerprint for row in rows}


def record(session, student: str, assignment: str, notebook: str, fingerprint: str) -> None:
    """Note (in the caller's transaction) that ``fingerprint`` is what this notebook's grades are of."""
    key = (GRADED.c.student == student) & (GRADED.c.assignment == assignment) & (GRADED.c.notebook == notebook)
    session.execute(GRADED.delete().where(key))
    session.execute(GRADED.insert().values(student=student, assignment=assignment, notebook=notebook,
                                           fingerprint=fingerprint, graded_at=datetime.now(timezone.utc)))


def forget(session, student: str, assignment: str) -> None:
    """Drop the record of a student's assignment: the next `course grade` grades it again."""
    session.execute(GRADED.delete().where((GRADED.c.student == student) & (GRADED.c.assignment == assignment)))
