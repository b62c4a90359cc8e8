"""Hidden checks judged in the grader's process: the wire format, the weight mapping, and real kernels.

The kernel tests run a small notebook in a real IPython kernel (nbclient, as the fairness
harness does) with a checks module written for the test, and look at what the grader
decides for each test cell, including when the notebook rewrites the cells that follow it.
"""
from __future__ import annotations

import base64
import json
import textwrap
from pathlib import Path

import nbformat
import pytest
import torch
from torch import nn

from course.checks import Judge, State, close, map_weights
from course.probe import decode, encode, parse_reply
from course.settings import GradeSettings

CHECKS = '''
import torch
from course.checks import CheckFailed, StudentError, close, expect, expect_tensor, generator, map_weights, meta

def square_values(kernel, ref, rng, refs):
    x = torch.randn(4, 3, generator=rng)
    expect_tensor(kernel.call("square", x), "square(x)", shape=(4, 3), close_to=ref.square(x))

def square_gradient(kernel, ref, rng, refs):
    x = torch.randn(5, generator=rng)
    reply = kernel.run("square", x, grad={"wrt": [0], "reduce": "sum"})
    expect(reply.grads[0] is not None, "no gradient")
    expect_tensor(reply.grads[0], "d square / dx", close_to=2 * x)
    expect(not reply.mutated, "square changed its input")

def noise_generator(kernel, ref, rng, refs):
    a = kernel.call("noise", torch.zeros(100), generator=generator(7))
    b = kernel.call("noise", torch.zeros(100), generator=generator(7))
    expect(torch.equal(a, b), "use the generator")
    expect(kernel.call("noise", meta(3)).device.type == "meta", "draw on x's device")

def scale_with_standin(kernel, ref, rng, refs):
    x = torch.rand(3, generator=rng)
    got = kernel.call("scaled_square", x, patch={"square": "lambda x: x * 0 + 1"})
    expect_tensor(got, "scaled_square(x) with a stand-in square", close_to=torch.full((3,), 2.0))

def module_structure(kernel, ref, rng, refs):
    model = kernel.new("Net", 6, 4)
    x = torch.randn(5, 6, generator=rng)
    out = model(x, no_grad=True)
    same = map_weights(ref.Net(6, 4), model.state(), lambda r: close(r(x), out))
    expect(same is not None, "Net should be Linear(6, 4), ReLU, Linear(4, 4)")

CHECKS = {"test_square": [square_values, square_gradient], "test_noise": [noise_generator],
          "test_scaled": [scale_with_standin], "test_net": [module_structure]}
'''

SOLUTIONS = {
    "square": "def square(x):\n    return x ** 2",
    "noise": "def noise(x, generator=None):\n    return x + torch.randn(x.shape, generator=generator, device=x.device)",
    "scaled": "def scaled_square(x):\n    return 2 * square(x)",
    "net": "class Net(nn.Module):\n    def __init__(self, d, h):\n        super().__init__()\n"
           "        self.first, self.second = nn.Linear(d, h), nn.Linear(h, h)\n"
           "    def forward(self, x):\n        return self.second(torch.relu(self.first(x)))",
}


def cell(source: str, grade_id: str | None = None, solution: bool = False, points: int = 1):
    made = nbformat.v4.new_code_cell(source)
    if grade_id:
        made.metadata["nbgrader"] = {"grade_id": grade_id, "solution": solution, "grade": not solution,
                                     "locked": not solution, "points": points, "schema_version": 3}
    return made


def assignment(folder: Path, answers: dict[str, str]) -> tuple[Path, list]:
    """A solved notebook with its checks.py in ``folder``, and the cells of a submission with ``answers``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "checks.py").write_text(CHECKS)
    cells = [cell("import torch\nfrom torch import nn")]
    for name, source in SOLUTIONS.items():
        cells += [cell(source, name, solution=True), cell(f'"""{name}"""\nassert True, "the visible test"', f"test_{name}")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), str(folder / "solved.ipynb"))
    submitted = [cell(answers.get(c.metadata.get("nbgrader", {}).get("grade_id"), c.source)) for c in cells]
    for original, copy in zip(cells, submitted):
        copy.metadata = original.metadata
    return folder, submitted


def judged(tmp_path: Path, answers: dict[str, str], seed: int = 0) -> dict[str, list]:
    """Run the submission in a real kernel with the checks judging; the error outputs per test cell."""
    from course.fairness import run_plan, Plan

    folder, cells = assignment(tmp_path / "assignment", answers)
    judge = Judge.for_assignment(folder, "solved.ipynb", seed)
    notebook = nbformat.v4.new_notebook(cells=cells)
    plan = Plan("x", tuple(range(len(cells))), 1, (), False)
    ran = run_plan(notebook, plan, cells[1].source, GradeSettings(cell_timeout=60), judge)
    return {c.metadata["nbgrader"]["grade_id"]: [(o.get("ename"), o.get("evalue")) for o in c.outputs
                                                   if o.get("output_type") == "error"]
            for c in ran if c.metadata.get("nbgrader", {}).get("grade", False)}


def test_values_travel_as_data_and_unknown_data_is_refused():
    x = torch.randn(3, 2, dtype=torch.float64)
    back = decode(json.loads(json.dumps(encode((x, [1, 2.5, None], {"k": torch.arange(3)})))))
    assert isinstance(back, tuple) and torch.equal(back[0], x) and back[1] == [1, 2.5, None]
    assert torch.equal(back[2]["k"], torch.arange(3))
    with pytest.raises(ValueError, match="unknown dtype"):
        decode({"tensor": {"dtype": "object", "shape": [1], "data": base64.b64encode(b"x").decode()}})
    reply = parse_reply(json.dumps({"error": ["ZeroDivisionError", "division by zero"]}))
    assert reply.error == ("ZeroDivisionError", "division by zero")
    with pytest.raises(ValueError):
        parse_reply("[1, 2]")


def test_the_students_weights_are_placed_in_the_reference_by_what_they_compute():
    torch.manual_seed(0)
    reference = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4))  # two layers of the same shape
    student = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4))
    x = torch.randn(8, 4)
    with torch.no_grad():
        out = student(x)
    # registered in the other order: the mapping must find which (4, 4) layer comes first
    swapped = State([(n, p.detach()) for n, p in reversed(list(student.named_parameters()))], [], [])
    placed = map_weights(reference, swapped, lambda r: close(r(x), out))
    assert placed is not None and close(placed(x), out)
    linear = nn.Sequential(nn.Linear(4, 4), nn.Identity(), nn.Linear(4, 4))  # no ReLU: another function
    with torch.no_grad():
        other = linear(x)
    state = State([(n, p.detach()) for n, p in linear.named_parameters()], [], [])
    assert map_weights(reference, state, lambda r: close(r(x), other)) is None
    assert map_weights(nn.Linear(4, 3), state, lambda r: True) is None  # other shapes


def test_right_answers_pass_and_wrong_ones_fail_in_a_real_kernel(tmp_path):
    assert all(errors == [] for errors in judged(tmp_path / "right", {}).values())
    wrong = {"square": "def square(x):\n    return (x * x).detach()",  # right values, no gradient
             "noise": "def noise(x, generator=None):\n    return x + torch.randn(x.shape)",
             "net": "class Net(nn.Module):\n    def __init__(self, d, h):\n        super().__init__()\n"
                    "        self.first, self.second = nn.Linear(d, h), nn.Linear(h, h)\n"
                    "    def forward(self, x):\n        return self.second(torch.sigmoid(self.first(x)))"}
    errors = judged(tmp_path / "wrong", wrong)
    assert errors["test_square"][0][0] == "HiddenCheckFailed"
    assert errors["test_noise"] and errors["test_net"] and "Linear(6, 4), ReLU" in errors["test_net"][0][1]
    assert errors["test_scaled"] == []  # scaled_square is judged with a stand-in square: one mistake, one cell


REWRITE_TESTS = ('get_ipython().input_transformers_cleanup.append('
                 'lambda lines: ["pass\\n"] if "assert" in "".join(lines) else lines)')
SILENCE_PROBES = ('get_ipython().input_transformers_cleanup.append('
                  'lambda lines: ["pass\\n"] if "__course" in "".join(lines) else lines)')


def test_rewriting_later_cells_in_the_kernel_changes_no_verdict(tmp_path):
    """A transformer that empties the test cells gains nothing; one that silences the probes loses their points."""
    wrong_square = "def square(x):\n    return x * 3\n"
    errors = judged(tmp_path / "rewrite", {"square": wrong_square + REWRITE_TESTS})
    assert errors["test_square"] and errors["test_square"][0][0] == "HiddenCheckFailed"
    silenced = judged(tmp_path / "silence", {"square": SOLUTIONS["square"] + "\n" + SILENCE_PROBES})
    assert all(e and e[0][0] == "HiddenCheckNotRun" for e in silenced.values()), silenced


def test_a_planted_reply_is_never_read(tmp_path):
    """The reply variable is new for every probe: a reply the notebook leaves behind cannot stand in for one."""
    planted = ('__course_reply__ = "{\\"value\\": null}"\n'
               + SILENCE_PROBES.replace('"__course" in', '"__course_probe__(" in'))
    errors = judged(tmp_path / "planted", {"square": SOLUTIONS["square"] + "\n" + planted})
    assert errors["test_square"][0][0] == "HiddenCheckNotRun"


def test_checks_draw_other_inputs_in_another_run(tmp_path):
    from course.checks import cell_generator

    first = torch.randn(3, generator=cell_generator(1, "test_square/square_values"))
    again = torch.randn(3, generator=cell_generator(1, "test_square/square_values"))
    other = torch.randn(3, generator=cell_generator(2, "test_square/square_values"))
    assert torch.equal(first, again) and not torch.equal(first, other)


STAND_IN_CHECKS = '''
from course.checks import expect

def increment_values(kernel, ref, rng, refs):
    right = kernel.call("increment", 2) == 3
    if not right:  # the cells after this one build on increment: they get the solution instead
        kernel.define("def increment(x):\\n    return x + 1", "a stand-in for increment")
    expect(right, "increment(2) should be 3")

CHECKS = {"test_increment": [increment_values]}
'''


def test_a_check_leaves_a_stand_in_for_the_cells_after_it(tmp_path):
    """A wrong answer loses its own test's points; a later cell that builds on it runs on the grader's stand-in."""
    from course.fairness import Plan, run_plan

    folder = tmp_path / "assignment"
    folder.mkdir()
    (folder / "checks.py").write_text(STAND_IN_CHECKS)
    cells = [cell("def increment(x):\n    return x + 1", "increment", solution=True),
             cell('"""increment"""\nassert isinstance(increment(0), int)', "test_increment"),
             cell("total = increment(1) + increment(2)"),  # 7 with the wrong answer below, 5 with the stand-in
             cell('"""total"""\nassert total == 5, total', "test_total")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), str(folder / "solved.ipynb"))
    judge = Judge.for_assignment(folder, "solved.ipynb", 0)
    ran = run_plan(nbformat.v4.new_notebook(cells=cells), Plan("increment", (0, 1, 2, 3), 0, (), False),
                   "def increment(x):\n    return x + 2", GradeSettings(cell_timeout=60), judge)
    errors = {c.metadata["nbgrader"]["grade_id"]: [o.get("ename") for o in c.outputs if o.get("output_type") == "error"]
              for c in ran if c.metadata.get("nbgrader", {}).get("grade", False)}
    assert errors == {"test_increment": ["HiddenCheckFailed"], "test_total": []}
