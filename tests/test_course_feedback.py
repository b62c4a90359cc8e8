"""Feedback that teaches without giving the hidden tests away, for notebooks saved by any editor.

One grading run of the fixture assignments: f2-tensors still carries nbgrader's in-kernel
``### BEGIN HIDDEN TESTS`` blocks (f1-basics' hidden checks live in checks.py), so its
feedback is where hidden code could leak; the f1 notebooks are saved the way Colab, VS Code
and JupyterLab save them (cell ids in the metadata, old nbformat minors, widget state with
and without its ``state`` key).
"""
from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path

import pytest

from course.feedback import VisibleTestsOnly, without_hidden_tests
from fixtures.course_support import FIXTURE_SOURCE, make_course, run_course, submission

F1, F2 = "f1-basics", "f2-tensors"
PROGRESS_MODEL = {"model_module": "@jupyter-widgets/controls", "model_name": "HBoxModel",
                  "model_module_version": "1.5.0", "state": {"children": []}}


def hidden_lines(assignment: str) -> list[str]:
    """The lines of the source notebook's hidden blocks (longer than a trivial line)."""
    cells = json.loads((FIXTURE_SOURCE / assignment / f"{assignment}.ipynb").read_text())["cells"]
    blocks = re.findall(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", "\n".join("".join(c["source"]) for c in cells), re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if len(line.strip()) > 12]


def saved_as(data: bytes, editor: str) -> bytes:
    """A notebook as ``editor`` would save it (the grader must not care)."""
    notebook = json.loads(data)
    widget = {"application/vnd.jupyter.widget-state+json": {"3f2a": PROGRESS_MODEL}}  # Colab: models only
    if editor == "colab":
        notebook["metadata"].update({"colab": {"provenance": []}, "widgets": widget, "accelerator": "GPU"})
        for index, cell in enumerate(notebook["cells"]):
            cell["metadata"]["id"] = f"cell{index}"
            if cell["cell_type"] == "code":
                cell["metadata"]["outputId"] = f"out{index}"
                cell["outputs"] = [{"output_type": "display_data", "metadata": {}, "data": {
                    "application/vnd.jupyter.widget-view+json": {"model_id": "3f2a", "version_major": 2,
                                                                 "version_minor": 0},
                    "text/plain": "HBox(children=(FloatProgress(value=0.0),))"}}]
    elif editor == "vscode":  # nbformat 4.4: no cell ids; VS Code's own metadata
        notebook["nbformat_minor"] = 4
        for cell in notebook["cells"]:
            cell.pop("id", None)
            cell["metadata"]["vscode"] = {"languageId": "python"}
    elif editor == "jupyterlab-old":  # nbformat 4.0 and widget state in nbformat's own shape
        notebook["nbformat_minor"] = 0
        for cell in notebook["cells"]:
            cell.pop("id", None)
        notebook["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {
            "state": {"3f2a": PROGRESS_MODEL}, "version_major": 2, "version_minor": 0}}
    return json.dumps(notebook).encode()


EDITORS = ("colab", "vscode", "jupyterlab-old")


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    root = make_course(tmp_path_factory.mktemp("feedback") / "course")
    assert run_course(root, "release").returncode == 0
    folder = root.parent / "class"
    wrong_standardize = "def standardize(x):\n    return x - x.mean()"
    files = {f"wrong/{F2}/{F2}.ipynb": submission(root, F2, standardize=wrong_standardize),
             f"right/{F2}/{F2}.ipynb": submission(root, F2)}
    files.update({f"{editor}/{F1}/{F1}.ipynb": saved_as(submission(root, F1), editor) for editor in EDITORS})
    for path, data in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    result = run_course(root, "grade", str(folder), "--jobs", "2")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    full = make_course(root.parent / "full-course", release=root / "release")
    (root.parent / "one" / "wrong" / F2).mkdir(parents=True)
    (root.parent / "one" / "wrong" / F2 / f"{F2}.ipynb").write_bytes(files[f"wrong/{F2}/{F2}.ipynb"])
    assert run_course(full, "grade", str(root.parent / "one"), "--feedback", "full").returncode == 0
    return root


def feedback(root: Path, student: str, assignment: str) -> str:
    """The text a student reads in the feedback HTML (tags and syntax-highlighting spans removed)."""
    page = (root / "feedback" / student / assignment / f"{assignment}.html").read_text()
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_the_feedback_shows_visible_tests_and_failure_messages_but_no_hidden_line(graded):
    assert hidden_lines(F2), "the fixture should still carry in-kernel hidden tests"
    for student in ("wrong", "right"):
        text = feedback(graded, student, F2)
        leaked = [line for line in hidden_lines(F2) if line in text]
        assert leaked == [], f"hidden test code in {student}'s feedback: {leaked}"
        assert 'check_tensor(z, "standardize(x)", shape=(5,))' in text  # the visible test
    wrong = feedback(graded, "wrong", F2)
    assert "standardize(x) has wrong values" in wrong  # the failing hidden test's own message
    assert "Traceback (most recent call last)" not in wrong and "site-packages" not in wrong


def test_full_feedback_keeps_what_nbgrader_shows(graded):
    full = feedback(graded.parent / "full-course", "wrong", F2)
    assert any(line in full for line in hidden_lines(F2))


@pytest.mark.parametrize("editor", EDITORS)
def test_notebooks_saved_by_any_editor_are_graded_with_feedback(graded, editor):
    with (graded / "reports" / f"{F1}-cells.csv").open() as handle:
        rows = {line.split(",")[0]: line for line in handle.read().splitlines()}
    assert rows[editor].endswith(",7.0,7.0")
    assert "7.0 / 7.0" in feedback(graded, editor, F1)
    original = (graded.parent / "class" / editor / F1 / f"{F1}.ipynb").read_bytes()
    assert (graded / "submitted" / editor / F1 / f"{F1}.ipynb").read_bytes() == original  # the student's bytes


def test_the_filter_cuts_hidden_blocks_and_tracebacks():
    source = '"""doc"""\nassert f(1) == 2, "visible"\n### BEGIN HIDDEN TESTS\nassert f(2) == 4\n### END HIDDEN TESTS'
    assert without_hidden_tests(source) == '"""doc"""\nassert f(1) == 2, "visible"'
    from nbformat.v4 import new_code_cell

    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t", "points": 1}
    cell.outputs = [{"output_type": "error", "ename": "AssertionError", "evalue": "visible",
                     "traceback": ["Traceback ...", "assert f(2) == 4", "AssertionError: visible"]}]
    filtered, _ = VisibleTestsOnly().preprocess_cell(copy.deepcopy(cell), {}, 0)
    assert "f(2)" not in filtered.source and filtered.outputs[0]["traceback"] == ["AssertionError: visible"]
