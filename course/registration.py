"""Whether the gradebook already records an assignment's cells as its source notebooks define them.

``course grade`` registers each assignment it grades (nbgrader's generate_assignment
writes the notebooks, grade cells, points and test code into the gradebook). When the
gradebook already holds exactly that, registering again is skipped: it takes seconds,
and two graders sharing a gradebook would otherwise rewrite the same rows at once.
What is compared is what nbgrader records: the notebooks, each grade and task cell with
its points and type, the solution cells' names, and every locked cell's source (a test
changed without changing its points is registered again). A difference of any kind
means registering again, never skipping.
"""
from __future__ import annotations

from pathlib import Path

# notebook name -> {"grade": {id: (points, type)}, "task": ..., "solution": [ids], "source": {id: (type, locked, source)}}
Cells = dict[str, dict]


def recorded_cells(db_url: str, assignment: str) -> Cells | None:
    """What the gradebook records about the assignment's notebooks; None when it does not know it."""
    from nbgrader.api import Gradebook, MissingEntry

    from course.nbgrader_api import ensure_tools_on_path

    ensure_tools_on_path()  # opening a new gradebook runs `alembic`
    with Gradebook(db_url) as gb:
        try:
            record = gb.find_assignment(assignment)
        except MissingEntry:
            return None
        cells = {}
        for notebook in record.notebooks:
            solutions = sorted(cell.name for cell in notebook.solution_cells)
            cells[notebook.name] = {
                "grade": {cell.name: (float(cell.max_score), cell.cell_type) for cell in notebook.grade_cells},
                "task": {cell.name: (float(cell.max_score), cell.cell_type) for cell in notebook.task_cells},
                "solution": solutions,
                # a solution cell is recorded as the student sees it (solution removed): not compared
                "source": {cell.name: (cell.cell_type, bool(cell.locked), None if cell.name in solutions else cell.source)
                           for cell in notebook.source_cells},
            }
        return cells


def source_cells(source_assignment: Path) -> Cells:
    """What generate_assignment would record from the source notebooks of ``source_assignment``."""
    import nbformat
    from nbgrader import utils

    cells = {}
    for path in sorted(source_assignment.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        graded = [c for c in notebook.cells if "grade_id" in c.metadata.get("nbgrader", {})]
        cells[path.stem] = {
            "grade": {c.metadata.nbgrader["grade_id"]: (float(c.metadata.nbgrader["points"]), c.cell_type)
                      for c in graded if utils.is_grade(c)},
            "task": {c.metadata.nbgrader["grade_id"]: (float(c.metadata.nbgrader["points"]), c.cell_type)
                     for c in graded if utils.is_task(c)},
            "solution": sorted(c.metadata.nbgrader["grade_id"] for c in graded if utils.is_solution(c)),
            "source": {c.metadata.nbgrader["grade_id"]: (c.cell_type, utils.is_locked(c),
                                                         None if utils.is_solution(c) else c.source)
                       for c in graded if utils.is_grade(c) or utils.is_solution(c) or utils.is_locked(c)
                       or utils.is_task(c)},
        }
    return cells


def create_tables(db_url: str) -> None:
    """nbgrader's tables and the course's own (graded bytes, overrides), where missing.

    Called under the gradebook's lock: two processes creating the same PostgreSQL table
    at once collide (a duplicate key in the catalogue), so no grading run may be first to
    create one outside it.
    """
    from nbgrader.api import Gradebook

    from course import ledger, overrides
    from course.nbgrader_api import ensure_tools_on_path

    ensure_tools_on_path()  # opening a new gradebook runs `alembic`
    with Gradebook(db_url) as gb:
        ledger.ensure_table(gb.engine)
        overrides.ensure_table(gb.engine)


def already_registered(db_url: str, source_assignment: Path) -> bool:
    """True when the gradebook records exactly the cells the source notebooks define."""
    return recorded_cells(db_url, source_assignment.name) == source_cells(source_assignment)
