"""The real assignments, end to end: released, checked, and their example submissions graded.

Parametrized over whatever assignments exist in source_notebooks/. One grading run
(``course grade --jobs 2`` on the complete, partial and blank example of every assignment,
in a scratch copy of the course) feeds the tests below: each source notebook must run top
to bottom without an error or a line on stderr (the complete example is the solved
notebook in the student's release), a student's untouched notebook must stop only with
NotImplementedError, and the grader must give exactly the points the examples deserve.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fixtures.course_support import COURSE_ASSIGNMENTS as ASSIGNMENTS, REPO, attention, cell_points, expected_points, make_course, run_course

pytestmark = pytest.mark.skipif(not ASSIGNMENTS, reason="no assignment in source_notebooks/ yet")
KINDS = ("complete", "partial", "blank")


@pytest.fixture(scope="session")
def graded(tmp_path_factory) -> Path:
    """A scratch copy of the course, released, with every example submission graded once."""
    root = make_course(tmp_path_factory.mktemp("assignments") / "course", source=REPO / "source_notebooks")
    (root / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text())
    for args in (("release",), ("examples",), ("grade", str(root / "examples"), "--jobs", "2")):
        result = run_course(root, *args, timeout=1500)
        assert result.returncode == 0, f"course {args[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return root


def executed(root: Path, assignment: str, kind: str) -> list[dict]:
    return json.loads((root / "autograded" / f"example-{kind}" / assignment / f"{assignment}.ipynb").read_text())["cells"]


def where(cell: dict, index: int) -> str:
    return cell["metadata"].get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"


def test_the_committed_release_is_what_course_release_makes_and_leaks_nothing():
    result = run_course(REPO, "check", timeout=600)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_release_opens_itself_in_colab(assignment):
    first = json.loads((REPO / "release" / assignment / f"{assignment}.ipynb").read_text())["cells"][0]
    link = ("https://colab.research.google.com/github/autoencoder-course/autoencoder-course/blob/main/"
            f"release/{assignment}/{assignment}.ipynb")
    assert f"]({link})" in "".join(first["source"])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.slow  # the graded fixture: all 12 examples through course grade (about 4 minutes)
def test_each_example_gets_exactly_its_points(graded, assignment, kind):
    points = cell_points(graded / "reports" / f"{assignment}-cells.csv")[f"example-{kind}"]
    expected = expected_points(graded / "examples")[assignment][f"example-{kind}"]
    assert points["total"] == expected, points
    if kind == "complete":
        assert points["total"] == points["max"]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_solved_notebook_runs_top_to_bottom_without_errors_or_stderr(graded, assignment):
    problems = [
        f"{where(cell, i)}: {output.get('ename') or output.get('name')}: "
        f"{(output.get('evalue') or ''.join(output.get('text', '')))[:300]}"
        for i, cell in enumerate(executed(graded, assignment, "complete")) for output in cell.get("outputs", [])
        if output["output_type"] == "error" or output.get("name") == "stderr"
    ]
    assert problems == []


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("kind", ["blank", "partial"])
def test_an_unfinished_notebook_stops_only_with_not_implemented_error(graded, assignment, kind):
    errors = [
        f"{where(cell, i)}: {output['ename']}: {output['evalue'][:300]}"
        for i, cell in enumerate(executed(graded, assignment, kind)) for output in cell.get("outputs", [])
        if output["output_type"] == "error" and output["ename"] != "NotImplementedError"
    ]
    assert errors == []


@pytest.mark.slow
def test_no_example_needs_attention(graded):
    rows = [row for row in attention(graded) if row["student"].startswith("example-")]
    assert rows == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_test_cell_belongs_to_an_exercise_with_points(assignment):
    from course.notebooks import exercise_ids, exercise_of, grade_points, read_notebook

    notebook = read_notebook(REPO / "source_notebooks" / assignment / f"{assignment}.ipynb")
    exercises = exercise_ids(notebook)
    assert exercises
    for test_id, points in grade_points(notebook).items():
        assert exercise_of(test_id, exercises) is not None and points > 0, test_id


def hidden_lines(assignment: str) -> set[str]:
    """The lines of the assignment's hidden checks and of any hidden block left in its notebook that students
    never see (not trivial ones, and not the ones the release shows anyway, such as a shared hint)."""
    folder = REPO / "source_notebooks" / assignment
    text = (folder / "checks.py").read_text() if (folder / "checks.py").exists() else ""
    cells = json.loads((folder / f"{assignment}.ipynb").read_text())["cells"]
    text += "\n".join(re.findall(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS",
                                 "\n".join("".join(c["source"]) for c in cells), re.S))
    # lines the student sees anyway: the release, and the solutions (the complete example is the solved notebook)
    release = json.loads((REPO / "release" / assignment / f"{assignment}.ipynb").read_text())["cells"]
    solved = re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", "", "\n".join("".join(c["source"]) for c in cells), flags=re.S)
    shown = {line.strip() for line in solved.splitlines()} | {
        line.strip() for c in release for line in "".join(c["source"]).splitlines()}
    return {line.strip() for line in text.splitlines()
            if len(line.strip()) > 20 and not line.strip().startswith("#") and line.strip() not in shown}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("kind", KINDS)
def test_the_feedback_shows_the_visible_tests_and_not_one_hidden_line(graded, assignment, kind):
    import html

    page = (graded / "feedback" / f"example-{kind}" / assignment / f"{assignment}.html").read_text()
    text = html.unescape(re.sub(r"<[^>]+>", "", page))  # what a student reads, without the highlighting spans
    # a hidden test would show as whole lines of code (a visible `_g = ...` merely contains a hidden `g = ...`)
    assert hidden_lines(assignment) & {line.strip() for line in text.splitlines()} == set()
    release = json.loads((REPO / "release" / assignment / f"{assignment}.ipynb").read_text())["cells"]
    visible = ["".join(c["source"]).splitlines()[-1].strip() for c in release
               if c["metadata"].get("nbgrader", {}).get("grade") and not c["metadata"]["nbgrader"].get("solution")]
    assert all(line in text for line in visible)
    if kind == "complete":
        points = cell_points(graded / "reports" / f"{assignment}-cells.csv")["example-complete"]
        assert f"Score: {points['max']:.1f} / {points['max']:.1f}" in text
