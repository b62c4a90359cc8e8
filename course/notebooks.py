"""What the pipeline needs to know about a notebook's nbgrader cells: exercises, tests, points.

An exercise is one solution cell whose ``grade_id`` names it; its tests are the grade
cells ``test_<exercise>`` or ``test_<exercise>_<aspect>``. A test cell belongs to the
exercise whose grade id is the longest prefix of what follows ``test_`` (on a ``_``
boundary), so ``test_encoder_shape`` belongs to ``encoder`` even when an exercise
``enc`` exists. The example submissions (complete, partial, blank) and the fairness
harness (a catalogued wrong answer swapped into one solution cell) both build on
:func:`fill_solution_cells`.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Iterable, Mapping

import nbformat
from nbformat import NotebookNode

NBFORMAT_VERSION = 4


def read_notebook(path: Path) -> NotebookNode:
    """Read a notebook as nbformat v4."""
    return nbformat.read(str(path), as_version=NBFORMAT_VERSION)


def notebook_bytes(notebook: NotebookNode) -> bytes:
    """The notebook as nbformat writes it (sorted keys, one-space indent, final newline)."""
    return (nbformat.writes(notebook, version=NBFORMAT_VERSION) + "\n").encode("utf-8")


def write_notebook(notebook: NotebookNode, path: Path) -> None:
    """Write ``notebook`` to ``path`` byte-for-byte reproducibly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(notebook_bytes(notebook))


def nbgrader_meta(cell: NotebookNode) -> dict:
    """The cell's nbgrader metadata ({} when it has none)."""
    return dict(cell.get("metadata", {}).get("nbgrader", {}) or {})


def grade_id(cell: NotebookNode) -> str | None:
    """The cell's nbgrader grade id, or None."""
    return nbgrader_meta(cell).get("grade_id")


def is_solution_cell(cell: NotebookNode) -> bool:
    """True for a cell students write in (nbgrader ``solution``)."""
    return bool(nbgrader_meta(cell).get("solution"))


def is_grade_cell(cell: NotebookNode) -> bool:
    """True for a cell that is scored (nbgrader ``grade``)."""
    return bool(nbgrader_meta(cell).get("grade"))


def exercise_ids(notebook: NotebookNode) -> list[str]:
    """The grade ids of the solution cells, in notebook order."""
    return [grade_id(cell) for cell in notebook.cells if is_solution_cell(cell) and grade_id(cell)]


def exercise_of(test_id: str, exercises: Iterable[str]) -> str | None:
    """The exercise a grade cell ``test_X...`` belongs to: the longest exercise id X... starts with."""
    name = test_id[len("test_"):] if test_id.startswith("test_") else test_id
    owners = [e for e in exercises if name == e or name.startswith(e + "_")]
    return max(owners, key=len) if owners else None


def grade_points(notebook: NotebookNode) -> dict[str, float]:
    """Points of every grade cell, by grade id, in notebook order."""
    return {
        grade_id(cell): float(nbgrader_meta(cell).get("points", 0) or 0)
        for cell in notebook.cells
        if is_grade_cell(cell) and grade_id(cell)
    }


def exercise_tests(notebook: NotebookNode) -> dict[str, list[str]]:
    """Each exercise's grade cells (its own solution cell excluded), in notebook order."""
    exercises = exercise_ids(notebook)
    owned: dict[str, list[str]] = {e: [] for e in exercises}
    for test_id in grade_points(notebook):
        owner = exercise_of(test_id, exercises)
        if owner is not None and test_id != owner:
            owned[owner].append(test_id)
    return owned


def expected_points(notebook: NotebookNode, completed: Iterable[str]) -> float:
    """Points a submission earns when exactly the ``completed`` exercises are right."""
    points = grade_points(notebook)
    done = set(completed)
    exercises = exercise_ids(notebook)
    return sum(p for test_id, p in points.items() if exercise_of(test_id, exercises) in done)


def solution_sources(notebook: NotebookNode) -> dict[str, str]:
    """The source of every solution cell, by grade id (from a solved source notebook)."""
    return {grade_id(cell): cell.source for cell in notebook.cells if is_solution_cell(cell) and grade_id(cell)}


def fill_solution_cells(notebook: NotebookNode, answers: Mapping[str, str]) -> NotebookNode:
    """A copy of ``notebook`` whose solution cells named in ``answers`` hold those sources.

    Raises KeyError naming any answer whose grade id is not a solution cell of the notebook,
    so a renamed exercise cannot silently leave a cell blank.
    """
    filled = copy.deepcopy(notebook)
    present = {grade_id(cell) for cell in filled.cells if is_solution_cell(cell)}
    unknown = sorted(set(answers) - present)
    if unknown:
        raise KeyError(f"no solution cell with grade id {', '.join(unknown)}")
    for cell in filled.cells:
        if is_solution_cell(cell) and grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    return filled
