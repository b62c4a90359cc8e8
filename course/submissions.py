"""Reading a submitted notebook defensively, and putting back the test cells a student removed.

Whatever arrives (an empty file, a PDF renamed .ipynb, a notebook whose test cells were
deleted or edited) must either be graded as far as possible or come back with a reason
the instructor can act on; nothing here raises on bad input.

nbgrader restores an *edited* test cell from the gradebook by its grade id, hidden tests
included, but in 0.9.6 it does not put back a *deleted* one unless ``add_missing_cells``
is on, and that code path fails when the cell before the deleted one was deleted too. So
a deleted test cell is put back here, from the release notebook (visible part and
nbgrader metadata), right after the release cell that precedes it; nbgrader's
OverwriteCells then swaps in the full source with the hidden tests as for any other test
cell. A deleted solution cell is not put back: the student may have moved the code into
another cell, and a stub would overwrite it.
"""
from __future__ import annotations

import ast
import copy
import json

import nbformat
from nbformat import NotebookNode

from course.notebooks import grade_id, is_grade_cell, is_solution_cell
from course.scan import imported_names, python_source, scan_submission


def parse_notebook(data: bytes) -> tuple[NotebookNode | None, str | None]:
    """The notebook in ``data``, or None and why it cannot be graded."""
    if not data.strip():
        return None, "the file is empty"
    try:
        raw = json.loads(data.decode("utf-8", errors="replace"))
    except ValueError as error:
        return None, f"not valid JSON ({error})"
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", raw.get("worksheets")), list):
        return None, "not a Jupyter notebook (valid JSON, but no list of cells)"
    try:
        notebook = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as error:  # nbformat raises several types for malformed notebooks
        return None, f"not a readable Jupyter notebook ({type(error).__name__}: {str(error)[:200]})"
    return notebook, None


def graded_cells(notebook: NotebookNode) -> dict[str, NotebookNode]:
    """The solution and grade cells by grade id (the first one when a student duplicated a cell)."""
    cells: dict[str, NotebookNode] = {}
    for cell in notebook.cells:
        if (is_grade_cell(cell) or is_solution_cell(cell)) and grade_id(cell):
            cells.setdefault(grade_id(cell), cell)
    return cells


def restore_deleted_tests(submission: NotebookNode, release: NotebookNode) -> tuple[NotebookNode, list[str]]:
    """A copy of ``submission`` with the release's missing test cells put back in place."""
    repaired = copy.deepcopy(submission)
    present = graded_cells(repaired)
    anchor, restored = -1, []
    for cell in release.cells:
        name = grade_id(cell) if (is_grade_cell(cell) or is_solution_cell(cell)) else None
        if name is None:
            continue
        if name in present:
            anchor = next(i for i, c in enumerate(repaired.cells) if c is present[name])
        elif is_grade_cell(cell) and not is_solution_cell(cell):
            anchor += 1
            repaired.cells.insert(anchor, copy.deepcopy(cell))
            restored.append(name)
    return repaired, restored


def edited_tests(submission: NotebookNode, release: NotebookNode) -> list[str]:
    """Test cells whose source differs from the release (nbgrader restores them)."""
    submitted = graded_cells(submission)
    return [
        name for name, cell in graded_cells(release).items()
        if is_grade_cell(cell) and not is_solution_cell(cell)
        and name in submitted and (submitted[name].source != cell.source or submitted[name].cell_type != cell.cell_type)
    ]


def release_imports(release: NotebookNode) -> set[str]:
    """The names the release notebook's own code imports (torch, np, check_close, ...)."""
    names: set[str] = set()
    for cell in release.cells:
        if cell.cell_type == "code":
            try:
                names |= imported_names(ast.parse(python_source(cell.source)))
            except SyntaxError:
                continue
    return names


def release_import_source(release: NotebookNode) -> str:
    """The top-level import statements of the release's given cells, in order (for the guard)."""
    lines: list[str] = []
    for cell in release.cells:
        if cell.cell_type != "code" or is_solution_cell(cell) or is_grade_cell(cell):
            continue
        try:
            tree = ast.parse(python_source(cell.source))
        except SyntaxError:
            continue
        lines += [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(dict.fromkeys(lines))


def restore_metadata(submission: NotebookNode, release: NotebookNode) -> tuple[NotebookNode, list[str]]:
    """A copy whose graded cells carry the release's nbgrader metadata, each grade id once.

    What nbgrader reads from a cell's metadata decides whether and for how many points it
    is graded: a student can set ``grade`` to false, raise ``points``, or paste a graded
    cell twice. The first cell with a release grade id gets the release's metadata back; a
    copy, or a cell with an unknown grade id, keeps its code but is no longer graded.
    """
    repaired = copy.deepcopy(submission)
    expected = {grade_id(c): c.metadata["nbgrader"] for c in release.cells if grade_id(c)}
    seen, changed, copies = set(), [], []
    for cell in repaired.cells:
        name = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if "nbgrader" not in cell.get("metadata", {}):
            continue
        if name in expected and name not in seen:
            if dict(cell.metadata.nbgrader) != dict(expected[name]):
                changed.append(name)
            cell.metadata["nbgrader"] = copy.deepcopy(expected[name])
            seen.add(name)
        else:
            copies.append(name or "(no grade id)")
            del cell.metadata["nbgrader"]
    notes = [f"changed grading metadata of {', '.join(changed)} (graded with the originals)"] if changed else []
    notes += [f"extra graded cells {', '.join(copies)} (run, not graded)"] if copies else []
    return repaired, notes


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def normalise_widget_state(notebook: NotebookNode) -> NotebookNode:
    """A copy whose saved widget state has the shape nbconvert reads (``{"state": {...}, ...}``).

    Notebooks saved by Colab keep the widget models (our training progress bars) directly
    under ``metadata.widgets[WIDGET_STATE]``, without the ``state`` key; nbconvert then fails
    on ``KeyError: 'state'`` while rendering the feedback (jupyter/nbconvert#1731,
    googlecolab/colabtools#4559). Models are wrapped as nbformat expects; anything else
    there that is not a mapping is dropped. The student's own file is never changed.
    """
    repaired = copy.deepcopy(notebook)
    widgets = repaired.metadata.get("widgets")
    if widgets is None:
        return repaired
    state = widgets.get(WIDGET_STATE) if isinstance(widgets, dict) else None
    if not isinstance(state, dict):
        del repaired.metadata["widgets"]
    elif not isinstance(state.get("state"), dict):
        widgets[WIDGET_STATE] = {"state": dict(state), "version_major": 2, "version_minor": 0}
    return repaired


def prepare_submission(submission: NotebookNode, release: NotebookNode) -> tuple[NotebookNode, list[str]]:
    """The notebook to hand to nbgrader, and the reasons it needs the instructor's attention."""
    submission = normalise_widget_state(submission)
    submission, notes = restore_metadata(submission, release)
    edited = edited_tests(submission, release)
    if edited:
        notes.append(f"edited test cells {', '.join(edited)} (graded with the originals)")
    repaired, restored = restore_deleted_tests(submission, release)
    if restored:
        notes.append(f"deleted test cells {', '.join(restored)} (put back and graded)")
    missing = [n for n, c in graded_cells(release).items() if is_solution_cell(c) and n not in graded_cells(repaired)]
    if missing:
        notes.append(f"answer cells {', '.join(missing)} missing (deleted, or their nbgrader metadata removed)")
    sources = {cell.source for cell in release.cells}
    notes += [f"suspicious code: {finding}" for finding in scan_submission(repaired.cells, sources, release_imports(release))]
    return repaired, notes
