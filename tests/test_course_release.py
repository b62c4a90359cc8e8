"""``course release`` and ``course check`` on the fixture assignments, through the real command line."""
import json
import re
import shutil
import subprocess
import sys
import types

import pytest

from fixtures.course_support import make_course, run_course

COLAB_LINK = re.compile(r"\(https://colab\.research\.google\.com/github/([^/]+/[^/]+)/blob/([^/]+)/release/([^/]+)/([^/)]+)\)")
ASSIGNMENTS = ("f1-basics", "f2-tensors")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A fixture course released once by the CLI (the tests below only read it or copy it)."""
    root = make_course(tmp_path_factory.mktemp("released") / "course")
    result = run_course(root, "release")
    assert result.returncode == 0, result.stderr
    return root


def cells(path):
    return json.loads(path.read_text())["cells"]


def release_path(root, assignment):
    return root / "release" / assignment / f"{assignment}.ipynb"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_release_has_no_solution_and_no_hidden_test(course, assignment):
    text = release_path(course, assignment).read_text()
    for secret in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "return 2 * x", "assert double(21) == 42",
                   "(x - x.mean()) / x.std()", "expected = (x - x.mean())"):
        assert secret not in text
    assert "raise NotImplementedError()" in text


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_first_cell_opens_this_very_notebook_in_colab(course, assignment):
    first = cells(release_path(course, assignment))[0]
    assert first["cell_type"] == "markdown" and "colab-badge.svg" in "".join(first["source"])
    link = COLAB_LINK.search("".join(first["source"]))
    assert link.groups() == ("someone/ae-course", "spring", assignment, f"{assignment}.ipynb")


def test_colab_metadata_asks_for_a_gpu_only_where_the_notebook_trains(course, tmp_path):
    metadata = json.loads(release_path(course, "f1-basics").read_text())["metadata"]
    assert metadata["colab"]["provenance"] == [] and "accelerator" not in metadata
    root = make_course(tmp_path / "gpu")
    source = root / "source_notebooks" / "f2-tensors" / "f2-tensors.ipynb"
    notebook = json.loads(source.read_text())
    notebook["cells"][1]["source"] += "\nhistory = fit(model, x, loss_fn, num_epochs=1, batch_size=8)"
    source.write_text(json.dumps(notebook))
    assert run_course(root, "release", "f2-tensors").returncode == 0
    metadata = json.loads(release_path(root, "f2-tensors").read_text())["metadata"]
    assert metadata["accelerator"] == "GPU" and metadata["colab"]["gpuType"] == "T4"


def setup_source(course):
    (cell,) = [c for c in cells(release_path(course, "f2-tensors")) if c.get("id") == "colab-setup"]
    return "".join(cell["source"])


def test_the_colab_setup_cell_does_nothing_outside_colab(course, monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append(args))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(setup_source(course), {})
    assert calls == []


def test_the_colab_setup_cell_installs_the_course_from_its_repository_in_colab(course, monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append(args[0]))
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(setup_source(course), {})
    (command,) = calls
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert command[-1] == "autoencoder-course @ git+https://github.com/someone/ae-course@spring"
    assert "--force-reinstall" not in command and "torch" not in command


def test_the_setup_cell_comes_before_the_first_code_cell(course):
    kinds = [(c["cell_type"], c.get("id")) for c in cells(release_path(course, "f1-basics"))]
    first_code = next(i for i, (kind, _) in enumerate(kinds) if kind == "code")
    assert kinds[first_code][1] == "colab-setup" and kinds[0][1] == "colab-badge"


def test_releasing_twice_gives_byte_identical_files_and_a_passing_check(course, tmp_path):
    before = {a: release_path(course, a).read_bytes() for a in ASSIGNMENTS}
    copy = tmp_path / "again"
    shutil.copytree(course, copy)
    assert run_course(copy, "release").returncode == 0
    assert {a: release_path(copy, a).read_bytes() for a in ASSIGNMENTS} == before
    check = run_course(copy, "check")
    assert check.returncode == 0, check.stderr


def test_check_names_every_problem_and_its_notebook(course, tmp_path):
    root = tmp_path / "broken"
    shutil.copytree(course, root)
    # 1. a hand edit of the release
    f1 = release_path(root, "f1-basics")
    f1.write_text(f1.read_text().replace("Three small functions", "Three small and easy functions"))
    # 2. a solution pasted into the release (leaks are named even though the bytes differ anyway)
    f2 = release_path(root, "f2-tensors")
    f2.write_text(f2.read_text().replace("# YOUR CODE HERE", "return (x - x.mean()) / x.std()", 1))
    # 3. an output, a duplicate grade id and a graded cell without points in a source notebook
    source = root / "source_notebooks" / "f2-tensors" / "f2-tensors.ipynb"
    notebook = json.loads(source.read_text())
    notebook["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hello\n"]}]
    notebook["cells"][6]["metadata"]["nbgrader"]["grade_id"] = "test_standardize"
    del notebook["cells"][3]["metadata"]["nbgrader"]["points"]
    source.write_text(json.dumps(notebook))
    # 4. a release left behind by an assignment that no longer exists
    shutil.copytree(root / "release" / "f1-basics", root / "release" / "f9-retired")
    result = run_course(root, "check")
    assert result.returncode == 1
    problems = result.stderr
    assert re.search(r"release/f1-basics/f1-basics\.ipynb: differs from what `course release` writes now", problems)
    assert re.search(r"release/f2-tensors/f2-tensors\.ipynb: cell \d+ contains solution code", problems)
    assert re.search(r"source_notebooks/f2-tensors/f2-tensors\.ipynb: cell 2 has outputs", problems)
    assert "f2-tensors.ipynb: duplicate grade id 'test_standardize'" in problems
    assert "f2-tensors.ipynb: graded cell 'test_standardize' has no points" in problems
    assert "release/f9-retired: release without a source notebook" in problems
