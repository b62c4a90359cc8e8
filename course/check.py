"""``course check``: the release is what ``course release`` makes now, and leaks nothing.

Fails (non-zero, naming the notebook) when

- a source notebook has outputs, a duplicate grade id, a graded cell without points, a
  test cell that belongs to no exercise (``test_<exercise>...``: partial credit relies on it)
  or one that ends in an expression (nbgrader would read its value as partial credit);
- release/ differs from what ``course release`` would write now (a hand edit, a source
  changed without re-releasing, a missing or stale file);
- a release notebook contains an nbgrader marker, a line of a solution or a line of a
  hidden test (the comparison with a fresh release catches hand edits; this names what
  leaked).
"""
from __future__ import annotations

import re
from pathlib import Path

from nbformat import NotebookNode

from course.nbgrader_api import NbgraderFailed
from course.config import CourseConfig
from course.notebooks import exercise_ids, exercise_of, grade_id, is_grade_cell, is_solution_cell, nbgrader_meta, read_notebook
from course.release import release_files

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
MIN_LEAK_LENGTH = 12  # shorter lines ("return z", "x = x + 1") occur in given code too


def source_problems(path: Path) -> list[str]:
    """What is wrong with one solved source notebook."""
    notebook = read_notebook(path)
    problems, seen = [], set()
    exercises = exercise_ids(notebook)
    for index, cell in enumerate(notebook.cells, start=1):
        name = grade_id(cell)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            problems.append(f"{path}: cell {index} has outputs (clear them before committing)")
        if name and name in seen:
            problems.append(f"{path}: duplicate grade id {name!r}")
        seen.add(name)
        if is_grade_cell(cell) and not nbgrader_meta(cell).get("points"):
            problems.append(f"{path}: graded cell {name!r} has no points")
        if is_grade_cell(cell) and not is_solution_cell(cell) and exercise_of(name or "", exercises) is None:
            problems.append(f"{path}: test cell {name!r} belongs to no exercise (name it test_<exercise>...)")
        if is_grade_cell(cell) and not is_solution_cell(cell) and ends_in_value(cell.source):
            problems.append(f"{path}: test cell {name!r} ends in an expression, whose value nbgrader would take "
                            "as partial credit: assign it (`_ = ...`)")
    return problems


def ends_in_value(source: str) -> bool:
    """Whether a cell's last statement is an expression (other than a lone docstring)."""
    import ast

    from course.scan import python_source

    try:
        body = ast.parse(python_source(source)).body
    except SyntaxError:
        return False
    return bool(body) and isinstance(body[-1], ast.Expr) and not (len(body) == 1 and isinstance(body[-1].value, ast.Constant))


def split_lines(notebook: NotebookNode, begin: str, end: str) -> tuple[set[str], set[str]]:
    """The stripped lines between ``begin`` and ``end`` markers, and those outside, in every cell."""
    inside_lines, outside_lines = set(), set()
    for cell in notebook.cells:
        inside = False
        for line in cell.source.splitlines():
            if begin in line or end in line:
                inside = begin in line
            else:
                (inside_lines if inside else outside_lines).add(line.strip())
    return inside_lines, outside_lines


def secret_lines(source: NotebookNode) -> dict[str, set[str]]:
    """Distinctive lines of the solutions and of the hidden tests: those that never occur in given code."""
    solution, not_solution = split_lines(source, "BEGIN SOLUTION", "END SOLUTION")
    hidden, not_hidden = split_lines(source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    public = not_solution & not_hidden  # lines that occur outside both kinds of region

    def distinctive(lines: set[str]) -> set[str]:
        return {line for line in lines - public if len(line) >= MIN_LEAK_LENGTH and re.search(r"\w", line)}

    return {"solution code": distinctive(solution), "a hidden test": distinctive(hidden)}


def leak_problems(release_path: Path, source_path: Path) -> list[str]:
    """Markers, solution lines or hidden-test lines found in a release notebook."""
    release = read_notebook(release_path)
    secrets = secret_lines(read_notebook(source_path))
    problems = []
    for index, cell in enumerate(release.cells, start=1):
        lines = {line.strip() for line in cell.source.splitlines()}
        for marker in MARKERS:
            if any(marker in line for line in lines):
                problems.append(f"{release_path}: cell {index} contains the nbgrader marker {marker!r}")
        for what, secret in secrets.items():
            leaked = sorted(lines & secret)
            if leaked:
                problems.append(f"{release_path}: cell {index} contains {what}: {leaked[0]!r}")
    return problems


def drift_problems(config: CourseConfig, assignment: str) -> list[str]:
    """Differences between release/<assignment>/ and a fresh release."""
    try:
        expected = release_files(config, assignment)
    except NbgraderFailed as error:  # nbgrader refused the source notebook
        return [f"{config.source / assignment}: nbgrader cannot release it ({error.cause})"]
    folder = config.release / assignment
    actual = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()} if folder.is_dir() else {}
    fix = f"run `course release {assignment}`"
    problems = [f"{folder / name}: missing ({fix})" for name in sorted(set(expected) - set(actual))]
    problems += [f"{folder / name}: not produced by the release, remove it ({fix})" for name in sorted(set(actual) - set(expected))]
    problems += [
        f"{folder / name}: differs from what `course release` writes now (edited by hand, or the source changed: {fix})"
        for name in sorted(set(expected) & set(actual)) if actual[name].read_bytes() != expected[name]
    ]
    return problems


def check(config: CourseConfig) -> list[str]:
    """Every problem with the course's source and release notebooks (empty when all is well)."""
    problems = []
    assignments = config.assignments()
    for assignment in assignments:
        for source in sorted((config.source / assignment).glob("*.ipynb")):
            problems += source_problems(source)
            released = config.release / assignment / source.name
            if released.exists():
                problems += leak_problems(released, source)
        problems += drift_problems(config, assignment)
    if config.release.is_dir():
        problems += [f"{p}: release without a source notebook (remove it)"
                     for p in sorted(config.release.iterdir()) if p.is_dir() and p.name not in assignments]
    return problems
