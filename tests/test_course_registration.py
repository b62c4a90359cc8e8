"""Registering an assignment in the course gradebook: skipped when the gradebook already records the same cells.

On a SQLite gradebook (tests/test_postgres.py does PostgreSQL, with registrations at once).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from course.gradebook import register_assignment
from course.registration import already_registered, recorded_cells, source_cells
from fixtures.course_support import FIXTURE_SOURCE

F1 = "f1-basics"


def edit_cell(notebook: Path, grade_id: str, points: float | None = None, append: str = "") -> None:
    """Change one graded cell of a source notebook: its points, or its code."""
    data = json.loads(notebook.read_text())
    for cell in data["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            if points is not None:
                cell["metadata"]["nbgrader"]["points"] = points
            cell["source"] = "".join(cell["source"]) + append
    notebook.write_text(json.dumps(data))


def test_same_cells_are_not_registered_again_and_any_change_is(tmp_path):
    root = tmp_path / "course"
    shutil.copytree(FIXTURE_SOURCE, root / "source_notebooks")
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    source, notebook = root / "source_notebooks" / F1, root / "source_notebooks" / F1 / f"{F1}.ipynb"
    assert recorded_cells(url, F1) is None
    register_assignment(url, root, F1, tmp_path / "scratch1")
    assert already_registered(url, source)
    recorded = recorded_cells(url, F1)
    assert recorded[F1]["grade"] == {"test_double": (1.0, "code"), "test_double_negative": (1.0, "code"),
                                     "test_square_sum": (2.0, "code"), "test_norm": (3.0, "code")}
    assert recorded == source_cells(source)

    edit_cell(notebook, "test_norm", points=4)
    assert not already_registered(url, source)
    register_assignment(url, root, F1, tmp_path / "scratch2")
    assert recorded_cells(url, F1)[F1]["grade"]["test_norm"] == (4.0, "code")

    edit_cell(notebook, "test_norm", append="\nassert norm([0.0]) == 0")  # same points, another test
    assert not already_registered(url, source)
