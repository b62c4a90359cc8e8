"""Exercises, their test cells and points: the mapping partial credit and the fairness harness use."""
import pytest

from course.notebooks import (exercise_ids, exercise_of, expected_points, fill_solution_cells, grade_points,
                              read_notebook, solution_sources, exercise_tests)
from fixtures.course_support import FIXTURE_SOURCE

F1 = FIXTURE_SOURCE / "f1-basics" / "f1-basics.ipynb"


@pytest.mark.parametrize("test_id, owner", [
    ("test_encoder", "encoder"),
    ("test_encoder_shape", "encoder"),
    ("test_encoder_conv_shape", "encoder_conv"),  # the longest prefix wins
    ("test_enc", None),  # a prefix must end on a word boundary: `enc` is not `encoder`
    ("test_decoder", None),
])
def test_a_test_cell_belongs_to_the_exercise_with_the_longest_matching_id(test_id, owner):
    assert exercise_of(test_id, ["encoder", "encoder_conv", "enc_"]) == owner


def test_the_fixture_notebook_maps_every_test_to_its_exercise():
    notebook = read_notebook(F1)
    assert exercise_ids(notebook) == ["double", "square_sum", "norm"]
    assert exercise_tests(notebook) == {
        "double": ["test_double", "test_double_negative"], "square_sum": ["test_square_sum"], "norm": ["test_norm"]}
    assert grade_points(notebook) == {"test_double": 1, "test_double_negative": 1, "test_square_sum": 2, "test_norm": 3}


def test_expected_points_count_only_the_tests_of_completed_exercises():
    notebook = read_notebook(F1)
    assert expected_points(notebook, []) == 0
    assert expected_points(notebook, ["double"]) == 2
    assert expected_points(notebook, ["double", "norm"]) == 5
    assert expected_points(notebook, exercise_ids(notebook)) == 7


def test_fill_solution_cells_replaces_only_the_named_cells_and_leaves_the_input_alone():
    notebook = read_notebook(F1)
    before = [cell.source for cell in notebook.cells]
    filled = fill_solution_cells(notebook, {"norm": "def norm(v):\n    return 0"})
    assert [cell.source for cell in notebook.cells] == before
    changed = [i for i, (a, b) in enumerate(zip(before, (c.source for c in filled.cells))) if a != b]
    assert len(changed) == 1 and filled.cells[changed[0]].source == "def norm(v):\n    return 0"


def test_fill_solution_cells_refuses_an_unknown_grade_id():
    with pytest.raises(KeyError, match="no_such_exercise"):
        fill_solution_cells(read_notebook(F1), {"no_such_exercise": "pass"})


def test_solution_sources_returns_the_solved_cells_by_grade_id():
    sources = solution_sources(read_notebook(F1))
    assert set(sources) == {"double", "square_sum", "norm"}
    assert "return 2 * x" in sources["double"]
