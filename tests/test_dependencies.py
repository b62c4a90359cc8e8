"""The static analysis that picks the cells a grade cell needs."""
from course.dependencies import cell_names, needed_cells

NOTEBOOK = [
    "import torch\nfrom helpers import fit, seed_everything\n%matplotlib inline",  # 0 setup
    "x_train = torch.rand(10, 4)",  # 1 data
    "def pca_reconstruct(x, k):\n    return x",  # 2 exercise 1
    "assert pca_reconstruct(x_train, 2).shape == x_train.shape",  # 3 test of exercise 1
    "class Autoencoder(torch.nn.Module):\n    pass",  # 4 exercise 2
    "seed_everything(0)",  # 5 a bare side effect
    "model = Autoencoder()\nhistory = fit(model, x_train, None)",  # 6 training
    "model.eval()",  # 7 in-place change
    "plot_history(history)",  # 8 a figure (reads history)
    "for layer in model.modules():\n    z = layer\nassert model is not None",  # 9 test of exercise 2
    "!pip install nothing\nslow = expensive(x_train)",  # 10 unrelated
]


def test_cell_names_sees_definitions_uses_and_in_place_changes():
    names = cell_names("import torch.nn as nn\nfrom a import b\nx, y = f(z)\nmodel.eval()\nw[0] = 1\ndef g():\n    return h\nq = x")
    assert names.binds == {"nn", "b", "x", "y", "g", "q"}
    assert names.mutates == {"model", "w"}
    assert {"f", "z", "model", "h"} <= names.needs and "x" not in names.needs  # x is bound before q reads it


def test_magics_and_shell_lines_are_ignored():
    assert cell_names("%time x = 1\n!ls\ny = 2").binds == {"y"}


def test_a_function_level_exercise_needs_only_setup_data_and_its_solution():
    assert needed_cells(NOTEBOOK, [3]) == [0, 1, 2, 3]


def test_a_trained_model_test_needs_the_training_chain_and_in_place_changes():
    # 5 (seeding) and 8 (a figure) bind nothing and can run: they are kept so that
    # random streams match a full run; 10 is unrelated and skipped.
    assert needed_cells(NOTEBOOK, [9]) == [0, 1, 4, 5, 6, 7, 8, 9]


def test_an_unparsable_cell_is_treated_as_needing_nothing():
    assert cell_names("def broken(:\n").binds == frozenset()


def test_a_name_comes_from_its_last_binding_and_imports_from_the_first_identical_import():
    cells = [
        "import torch\nx = 1",  # 0
        "def f(x):\n    return x",  # 1 exercise A
        "import torch\nassert f(x) == 1",  # 2 test of A: imports torch again
        "x = 2",  # 3 rebinds x
        "def g(x):\n    return torch.zeros(x)",  # 4 exercise B
        "import torch\nassert g(x).shape == (2,)",  # 5 test of B
    ]
    # the test of B needs x from cell 3 (not 0) and torch from cell 0 (not from A's test)
    assert needed_cells(cells, [5]) == [0, 3, 4, 5]


def test_a_cell_that_reads_a_name_before_rebinding_it_needs_the_earlier_binding():
    assert needed_cells(["x = 1", "y = 0", "x = x + 1"], [2]) == [0, 2]


def test_keep_out_cells_are_not_added_as_side_effects():
    cells = ["import torch", "torch.manual_seed(0)", "assert True", "y = torch.zeros(1)"]
    assert needed_cells(cells, [3]) == [0, 1, 2, 3]
    assert needed_cells(cells, [3], keep_out=frozenset({2})) == [0, 1, 3]


def test_names_bound_inside_a_with_or_for_block_before_they_are_read_are_not_needed():
    names = cell_names("with ctx() as c:\n    y = c + 1\n    z = y * 2\nfor i in range(3):\n    w = i + q\n")
    assert names.needs == {"ctx", "range", "q"}
    assert {"c", "y", "z", "i", "w"} <= names.binds


def test_the_name_of_an_except_clause_is_bound_for_its_handler():
    names = cell_names("try:\n    f()\nexcept RuntimeError as error:\n    print(error)\nelse:\n    g(error2)\n")
    assert names.needs == {"f", "RuntimeError", "print", "g", "error2"}
    assert needed_cells(["error = 1", "try:\n    f()\nexcept ValueError as error:\n    print(error)"], [1]) == [1]
