"""Is the grader fair? The catalogue of right and wrong answers in tests/answers/, graded.

Every exercise has at least three wrong answers modelled on real mistakes and at least one
correct answer written differently from the solution. Each is graded by the harness in
course.fairness: the cells its exercise's tests depend on run with the answer in place,
in a kernel set up as ``course grade`` sets one up, scored by nbgrader's own rule. A wrong
answer must lose the points of the cells it breaks and keep every other exercise's
points; a correct one must keep them all.

Here run the exercises graded without training (seconds per answer); those whose tests
need trained models run in ``make fairness`` (minutes per answer, see README). The last
test shows on two whole submissions that the harness gives the points a full
``course grade`` gives.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from course.settings import GradeSettings
from course.fairness import (Answer, evaluate_course, judge, load_catalogue, parse_answer, plans, select, solution_answers,
                            stand_ins)
from course.notebooks import exercise_ids, fill_solution_cells, grade_points, read_notebook, solution_sources, write_notebook
from fixtures.course_support import COURSE_ASSIGNMENTS as ASSIGNMENTS, REPO, cell_points, make_course, run_course

CATALOGUE = REPO / "tests" / "answers"


def source_notebook(assignment: str):
    return read_notebook(REPO / "source_notebooks" / assignment / f"{assignment}.ipynb")


def function_level_answers() -> list[Answer]:
    """The solution and catalogued answers of every exercise graded without training."""
    answers = []
    for assignment in ASSIGNMENTS:
        notebook = source_notebook(assignment)
        answers += select(solution_answers(notebook, assignment) + load_catalogue(CATALOGUE, assignment), notebook,
                          include_training=False, defines=stand_ins(REPO / "source_notebooks" / assignment))
    return answers


ANSWERS = function_level_answers()


def answer_id(answer: Answer) -> str:
    return f"{answer.assignment[:2]}-{answer.exercise}-{answer.name}"


# --- the catalogue itself -------------------------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_has_three_wrong_answers_and_an_alternative(assignment):
    answers = load_catalogue(CATALOGUE, assignment)
    for exercise in exercise_ids(source_notebook(assignment)):
        kinds = [a.kind for a in answers if a.exercise == exercise]
        assert kinds.count("wrong") >= 3 and kinds.count("alternative") >= 1, (exercise, kinds)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_catalogued_answer_differs_from_the_solution_and_names_real_test_cells(assignment):
    notebook = source_notebook(assignment)
    solutions, tests = solution_sources(notebook), set(grade_points(notebook))
    for answer in load_catalogue(CATALOGUE, assignment):
        body = "\n".join(line for line in answer.source.splitlines() if not line.startswith("#"))
        assert body.split() != solutions[answer.exercise].split(), f"{answer.name} is the solution itself"
        assert set(answer.breaks) <= tests, (answer.name, answer.breaks)


def test_a_catalogue_file_without_its_header_is_refused(tmp_path):
    path = tmp_path / "wrong-no-header.py"
    path.write_text("def f():\n    return 1\n")
    with pytest.raises(ValueError, match="first line"):
        parse_answer(path, "01", "f")


# --- the judge: what counts as fair ---------------------------------------------------------

EXERCISES = ["pca_reconstruct", "autoencoder"]
MAX = {"test_pca_reconstruct": 5.0, "test_autoencoder": 5.0, "test_autoencoder_vs_pca": 3.0}


def answer(kind: str, breaks: tuple[str, ...] = ()) -> Answer:
    return Answer("01", "autoencoder", kind, f"{kind}-x", "x", "", breaks)


def test_judge_accepts_a_wrong_answer_that_loses_exactly_its_own_points():
    points = {"test_pca_reconstruct": 5.0, "test_autoencoder": 0.0, "test_autoencoder_vs_pca": 0.0}
    assert judge(answer("wrong"), points, MAX, EXERCISES) == []


def test_judge_flags_a_wrong_answer_that_keeps_points_it_breaks():
    points = {"test_pca_reconstruct": 5.0, "test_autoencoder": 5.0, "test_autoencoder_vs_pca": 0.0}
    assert judge(answer("wrong"), points, MAX, EXERCISES) == ["test_autoencoder gave 5 of 5 points to a wrong answer"]
    # declared to break only the trained test, it is caught by that test alone
    assert judge(answer("wrong", ("test_autoencoder_vs_pca",)), points, MAX, EXERCISES) == []


def test_judge_flags_a_wrong_answer_that_costs_another_exercises_points():
    points = {"test_pca_reconstruct": 0.0, "test_autoencoder": 0.0, "test_autoencoder_vs_pca": 0.0}
    assert judge(answer("wrong"), points, MAX, EXERCISES) == ["test_pca_reconstruct (another exercise) gave 0 of 5"]


def test_judge_flags_a_correct_answer_that_loses_points():
    points = {"test_pca_reconstruct": 5.0, "test_autoencoder": 5.0, "test_autoencoder_vs_pca": 0.0}
    assert judge(answer("alternative"), points, MAX, EXERCISES) == [
        "test_autoencoder_vs_pca gave 0 of 3 points to a correct answer"]


# --- the catalogue, graded -------------------------------------------------------------------

@pytest.fixture(scope="session")
def outcomes() -> dict[str, object]:
    """Every function-level answer graded once (two at a time), by answer id."""
    graded = evaluate_course(REPO, ASSIGNMENTS, GradeSettings(data="mnist5k"), include_training=False, jobs=2,
                             catalogue=CATALOGUE)
    return {answer_id(o.answer): o for o in graded}


@pytest.mark.slow  # about 120 answers, each in a kernel of its own
@pytest.mark.parametrize("answer", ANSWERS, ids=answer_id)
def test_the_grader_separates_right_from_wrong(outcomes, answer):
    outcome = outcomes[answer_id(answer)]
    assert outcome.points, "no grade cell ran"
    assert outcome.problems == [], f"{answer.kind} answer ({answer.description}): {outcome.problems}"


# --- the harness agrees with the real grader --------------------------------------------------

def mixed_submission(assignment: str) -> tuple[object, dict[str, Answer]]:
    """The solved notebook with, per function-level exercise, a catalogued answer in place:
    wrong answers and alternatives in turn. A fair grader scores each exercise on its own,
    so the whole notebook must get, cell by cell, what the harness gave each answer alone."""
    notebook = source_notebook(assignment)
    known = plans(notebook)
    catalogue = load_catalogue(CATALOGUE, assignment)
    chosen = {}
    for turn, exercise in enumerate(e for e in exercise_ids(notebook) if not known[e].trains):
        kind = ("wrong", "alternative")[turn % 2]
        chosen[exercise] = next(a for a in catalogue if a.exercise == exercise and a.kind == kind)
    release = read_notebook(REPO / "release" / assignment / f"{assignment}.ipynb")
    answers = {**solution_sources(notebook), **{e: a.source for e, a in chosen.items()}}
    return fill_solution_cells(release, answers), chosen


AGREEMENT = [a for a in ("02-deep-and-spherical", "03-variational-autoencoders") if a in ASSIGNMENTS]


@pytest.mark.slow
@pytest.mark.skipif(not AGREEMENT, reason="the sample assignments are not there")
def test_the_harness_gives_the_points_a_full_course_grade_gives(outcomes, tmp_path):
    root = make_course(tmp_path / "course", source=REPO / "source_notebooks", release=REPO / "release")
    (root / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text())
    expected = {}
    for assignment in AGREEMENT:
        submission, chosen = mixed_submission(assignment)
        write_notebook(submission, tmp_path / "submissions" / "mixed" / assignment / f"{assignment}.ipynb")
        full = grade_points(source_notebook(assignment))
        harness = {}
        for answer in chosen.values():
            harness.update(outcomes[answer_id(answer)].points)
        expected[assignment] = {cell: harness.get(cell, points) for cell, points in full.items()}
    result = run_course(root, "grade", str(tmp_path / "submissions"), "--jobs", "2", timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for assignment, cells in expected.items():
        graded = cell_points(root / "reports" / f"{assignment}-cells.csv")["mixed"]
        assert {cell: graded[cell] for cell in cells} == cells, assignment
        assert any(points < grade_points(source_notebook(assignment))[cell] for cell, points in cells.items()), (
            "the sample has no wrong answer: it would prove nothing")
