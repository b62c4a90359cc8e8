"""Example submissions for every assignment, made from the release and source notebooks.

``make course`` grades them to show the pipeline end to end, and the tests check the
grader with them, so they are generated, never stored (they cannot drift from the
notebooks):

- ``example-complete``: the release notebook with every answer cell replaced by the source
  notebook's cell of the same grade id: full marks;
- ``example-partial``: the same for the first half of the exercises (in notebook order):
  exactly the points of the test cells of those exercises;
- ``example-blank``: the release notebook as a student receives it: zero.
"""
from __future__ import annotations

import json
from pathlib import Path

from nbformat import NotebookNode

from course.config import CourseConfig
from course.notebooks import exercise_ids, expected_points, fill_solution_cells, read_notebook, solution_sources, write_notebook

KINDS = ("complete", "partial", "blank")
EXPECTED = ".expected.json"


def student_id(kind: str) -> str:
    return f"example-{kind}"


def completed_exercises(source: NotebookNode, kind: str) -> list[str]:
    """The exercises an example of this kind answers."""
    exercises = exercise_ids(source)
    return {"complete": exercises, "partial": exercises[: len(exercises) // 2], "blank": []}[kind]


def example_notebook(release: NotebookNode, source: NotebookNode, kind: str) -> NotebookNode:
    """The release notebook with the answers of ``kind`` filled in from the source."""
    answers = solution_sources(source)
    return fill_solution_cells(release, {e: answers[e] for e in completed_exercises(source, kind)})


def write_examples(config: CourseConfig, out: Path, assignments: list[str] | None = None) -> dict:
    """Write ``out/example-<kind>/<assignment>/<notebook>`` and ``out/.expected.json``; returns the latter.

    The expected points (a dot file: the grader skips it) map assignment -> student -> the points that submission must get.
    """
    expected: dict[str, dict[str, float]] = {}
    for assignment in assignments or config.assignments():
        for released in sorted((config.release / assignment).glob("*.ipynb")):
            source = read_notebook(config.source / assignment / released.name)
            release = read_notebook(released)
            for kind in KINDS:
                write_notebook(example_notebook(release, source, kind), out / student_id(kind) / assignment / released.name)
                points = expected_points(source, completed_exercises(source, kind))
                per_student = expected.setdefault(assignment, {})
                per_student[student_id(kind)] = per_student.get(student_id(kind), 0.0) + points
    (out / EXPECTED).write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    return expected
