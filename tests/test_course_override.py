"""``course override``: a person's points on one test cell, as nbgrader's manual score, with the reason kept.

Most tests use a gradebook built with nbgrader's API (tests/fixtures/gradebooks.py); the last
one grades two real submissions of the fixture assignment with ``course grade`` and then
works as an instructor would: override, see it in grades.csv, the per-cell CSV, the report
and the export, take it back.
"""
from __future__ import annotations

import csv
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from course.grades import open_gradebook
from course.overrides import OverrideError, apply_override, clear_overrides, list_overrides, remove_override, set_override
from course.sandbox import bwrap_path
from fixtures.course_support import FIXTURE_SOURCE, cell_points, make_course, run_course
from fixtures.gradebooks import Learner, build_gradebook, full

ALICE, BOB, CAROL = "alice", "bob.mueller@uni.example", "carol"  # bob: a long LMS login, as downloads give them
NOON = datetime(2026, 3, 2, 12, 0, 0)


@pytest.fixture(scope="module")
def class_gradebook(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    build_gradebook(f"sqlite:///{path}", [
        Learner(ALICE, points={"f1-basics": full("f1-basics", test_norm=0.0), "f2-tensors": full("f2-tensors")}),
        Learner(BOB, "Bob", "Müller", points={"f1-basics": full("f1-basics", test_double=0.0, test_double_negative=0.0)}),
        Learner(CAROL),  # in the gradebook, nothing handed in
    ])
    return path


@pytest.fixture
def db(tmp_path: Path, class_gradebook: Path) -> str:
    shutil.copy(class_gradebook, tmp_path / "gradebook.db")
    return f"sqlite:///{tmp_path / 'gradebook.db'}"


def grade_of(db: str, student: str, cell: str, assignment: str = "f1-basics") -> dict:
    with open_gradebook(db) as gb:
        return gb.find_grade(cell, assignment, assignment, student).to_dict()


def total(db: str, student: str, assignment: str = "f1-basics") -> float:
    with open_gradebook(db) as gb:
        return gb.find_submission(assignment, student).score


def test_an_override_is_nbgraders_manual_score_and_keeps_the_reason(db):
    override = set_override(db, ALICE, "f1-basics", "test_norm", 2.5, "  norm right;\n only the empty input  fails ", now=NOON)
    assert (override.points, override.max_points, override.auto_score) == (2.5, 3.0, 0.0)
    assert override.reason == "norm right; only the empty input fails"  # one line, as reports show it
    grade = grade_of(db, ALICE, "test_norm")
    # what the formgrader reads: the manual score wins over the autograder's, and nothing waits for a person
    assert (grade["auto_score"], grade["manual_score"], grade["needs_manual_grade"]) == (0.0, 2.5, False)
    assert total(db, ALICE) == 6.5
    assert list_overrides(db) == [override]
    assert override.describe() == ("alice: test_norm set to 2.5/3 (autograder: 0) on 2026-03-02: "
                                   "norm right; only the empty input fails")


def test_nbgraders_own_export_sees_the_override(db, tmp_path):
    from nbgrader.plugins import CsvExportPlugin

    set_override(db, BOB, "f1-basics", "test_double", 1, "double(x) = x + x is right")
    plugin = CsvExportPlugin()
    plugin.to = str(tmp_path / "nbgrader.csv")
    with open_gradebook(db) as gb:
        plugin.export(gb)
    with (tmp_path / "nbgrader.csv").open(newline="") as handle:
        bob = next(row for row in csv.DictReader(handle) if row["student_id"] == BOB and row["assignment"] == "f1-basics")
    assert float(bob["raw_score"]) == 6.0  # 5 automatic + 1 overridden


def test_overriding_again_replaces_and_removing_gives_the_autograders_points_back(db):
    set_override(db, ALICE, "f1-basics", "test_norm", 1, "first look")
    set_override(db, ALICE, "f1-basics", "test_norm", 3, "second look: the test's tolerance was too tight")
    assert [(o.points, o.reason) for o in list_overrides(db)] == [(3.0, "second look: the test's tolerance was too tight")]
    removed = remove_override(db, ALICE, "f1-basics", "test_norm")
    assert removed.points == 3.0 and list_overrides(db) == []
    assert grade_of(db, ALICE, "test_norm")["manual_score"] is None and total(db, ALICE) == 4.0
    assert remove_override(db, ALICE, "f1-basics", "test_norm") is None


def test_overrides_are_listed_per_assignment_and_student(db):
    set_override(db, ALICE, "f2-tensors", "test_largest", 0, "hard-coded the answer to the visible test")
    set_override(db, BOB, "f1-basics", "test_double", 1, "right")
    set_override(db, ALICE, "f1-basics", "test_norm", 3, "right")
    assert [(o.assignment, o.student, o.cell) for o in list_overrides(db)] == [
        ("f1-basics", ALICE, "test_norm"), ("f1-basics", BOB, "test_double"), ("f2-tensors", ALICE, "test_largest")]
    assert [o.cell for o in list_overrides(db, "f1-basics", BOB)] == ["test_double"]
    assert total(db, ALICE, "f2-tensors") == 2.0


@pytest.mark.parametrize("student, assignment, cell, points, reason, message", [
    ("alicia", "f1-basics", "test_norm", 1, "x", "unknown student 'alicia'; did you mean alice?"),
    (ALICE, "f1", "test_norm", 1, "x", "unknown assignment 'f1'; known: f1-basics, f2-tensors"),
    (ALICE, "f1-basics", "test_nrom", 1, "x", "unknown test cell of f1-basics 'test_nrom'; did you mean test_norm"),
    (ALICE, "f1-basics", "norm", 1, "x", "unknown test cell of f1-basics 'norm'; did you mean test_norm"),  # the answer cell
    (ALICE, "f1-basics", "test_norm", 3.5, "x", "3.5 points is outside test_norm's range: give 0 to 3"),
    (ALICE, "f1-basics", "test_norm", -1, "x", "-1 points is outside test_norm's range: give 0 to 3"),
    (ALICE, "f1-basics", "test_norm", float("nan"), "x", "nan points is outside test_norm's range"),
    (ALICE, "f1-basics", "test_norm", 1, " \n ", "an override needs a reason"),
    (CAROL, "f1-basics", "test_norm", 1, "x", "carol has no graded submission of f1-basics: grade it first"),
])
def test_bad_input_is_refused_and_changes_nothing(db, student, assignment, cell, points, reason, message):
    with pytest.raises(OverrideError, match=message.replace("(", r"\(").replace("?", r"\?")):
        set_override(db, student, assignment, cell, points, reason)
    assert list_overrides(db) == [] and grade_of(db, ALICE, "test_norm")["manual_score"] is None


def test_the_command_needs_points_unless_it_removes_and_leaves_absent_csvs_absent(db, tmp_path):
    with pytest.raises(OverrideError, match="give the points for the cell .* or --remove"):
        apply_override(tmp_path, db, ALICE, "f1-basics", "test_norm", None, "why")
    assert apply_override(tmp_path, db, ALICE, "f1-basics", "test_norm", 3, "why")[1:] == []  # nothing graded here yet
    assert apply_override(tmp_path, db, BOB, "f1-basics", "test_norm", None, "", remove=True) == [
        f"{BOB} had no override on test_norm of f1-basics: nothing changed"]
    assert not (tmp_path / "grades.csv").exists()


def test_clear_overrides_joins_the_callers_transaction(db):
    """What re-grading does: in its own session, drop the submission's overrides, then commit or roll back."""
    set_override(db, ALICE, "f1-basics", "test_norm", 3, "right")
    set_override(db, ALICE, "f2-tensors", "test_largest", 0, "hard-coded")
    with open_gradebook(db) as gb:
        dropped = clear_overrides(gb.db, ALICE, "f1-basics")
        assert [o.cell for o in dropped] == ["test_norm"]
        gb.db.rollback()  # the grader failed before committing: nothing changed
    assert len(list_overrides(db)) == 2 and total(db, ALICE) == 7.0
    with open_gradebook(db) as gb:
        clear_overrides(gb.db, ALICE, "f1-basics")
        gb.db.commit()
    assert [o.assignment for o in list_overrides(db)] == ["f2-tensors"] and total(db, ALICE) == 4.0
    assert clear_overrides(db, BOB, "f1-basics") == []  # nothing to clear: fine


def test_an_override_the_gradebook_lost_is_shown_as_such(db):
    set_override(db, BOB, "f1-basics", "test_double", 1, "right")
    with open_gradebook(db) as gb:  # a re-grade that reset the manual scores without clearing the reasons
        gb.find_grade("test_double", "f1-basics", "f1-basics", BOB).manual_score = None
        gb.db.commit()
    [override] = list_overrides(db)
    assert not override.in_effect and override.describe().endswith("[no longer in the gradebook: the submission was graded again]")


@pytest.mark.slow  # grades two notebooks and runs six course commands: minutes on a loaded 2-core machine
def test_instructor_overrides_a_graded_submission_and_every_output_shows_it(tmp_path):
    """Grade two real submissions, override a cell on the command line, grade again, report, export, take it back."""
    from course.notebooks import fill_solution_cells, notebook_bytes, read_notebook, solution_sources

    root = make_course(tmp_path / "course")
    assert run_course(root, "release", "f1-basics").returncode == 0
    release = read_notebook(root / "release" / "f1-basics" / "f1-basics.ipynb")
    answers = solution_sources(read_notebook(FIXTURE_SOURCE / "f1-basics" / "f1-basics.ipynb"))
    wrong_norm = {**answers, "norm": "def norm(values):\n    return sum(values)\n"}
    for student, filled in ((ALICE, answers), (BOB, wrong_norm)):
        folder = tmp_path / "submissions" / student / "f1-basics"
        folder.mkdir(parents=True)
        (folder / "f1-basics.ipynb").write_bytes(notebook_bytes(fill_solution_cells(release, filled)))
    sandbox = () if bwrap_path() else ("--no-sandbox",)
    graded = run_course(root, "grade", str(tmp_path / "submissions"), "--jobs", "2", "--timeout", "20", *sandbox)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert cell_points(root / "reports" / "f1-basics-cells.csv")[BOB]["test_norm"] == 0.0

    done = run_course(root, "override", BOB, "f1-basics", "test_norm", "2", "--reason", "sum instead of the root; half the idea")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith(f"overridden: {BOB}: test_norm set to 2/3 (autograder: 0) on ")
    assert cell_points(root / "reports" / "f1-basics-cells.csv")[BOB] == {
        "test_double": 1.0, "test_double_negative": 1.0, "test_square_sum": 2.0, "test_norm": 2.0, "total": 6.0, "max": 7.0}
    with (root / "grades.csv").open(newline="") as handle:
        assert float(next(r for r in csv.DictReader(handle) if r["student_id"] == BOB)["raw_score"]) == 6.0
    again = run_course(root, "grade", str(tmp_path / "submissions"), "--timeout", "20", *sandbox)
    assert again.returncode == 0 and "0 submissions graded, 2 already graded with the same bytes" in again.stdout
    assert cell_points(root / "reports" / "f1-basics-cells.csv")[BOB]["test_norm"] == 2.0  # the same bytes keep it

    assert run_course(root, "report").returncode == 0
    page = (root / "reports" / "f1-basics.md").read_text()
    assert "## Manual overrides" in page and f"- {BOB}: test_norm set to 2/3 (autograder: 0)" in page
    assert page.rstrip().endswith("sum instead of the root; half the idea")

    exported = run_course(root, "export", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    with (root / "exports" / "csv-grades.csv").open(encoding="utf-8-sig", newline="") as handle:
        assert {r["student"]: r["f1-basics"] for r in csv.DictReader(handle)} == {ALICE: "7", BOB: "6"}

    back = apply_override(root, f"sqlite:///{root / 'gradebook.db'}", BOB, "f1-basics", "test_norm", None, "", remove=True)
    assert back[0].startswith(f"removed: {BOB}: test_norm") and back[1:] == [
        f"updated {root / 'grades.csv'}", f"updated {root / 'reports' / 'f1-basics-cells.csv'}"]
    assert cell_points(root / "reports" / "f1-basics-cells.csv")[BOB]["total"] == 4.0

