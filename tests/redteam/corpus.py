"""Hostile and broken submissions of assignment 3, built from its release notebook, each with the grade it must get.

Every attack starts from an honest *partial* submission: reparameterize, kl_divergence and
vae_loss answered correctly (7 + 7 + 8 = 22 of 30 points), the VAE class left unfinished,
which keeps each run short (training stops at once on the unfinished class). An attack
then cheats on one exercise, usually with a wrong answer that the cheat tries to get
through, or breaks the notebook or the machine. Its expected total is what a fair grader
gives: the cheated exercise scores nothing, the honest parts keep their points.

Each hostile program is bounded on its own, so that it cannot harm the machine even if
the limit it tests failed: the fork loop stops at 500 children that sleep 20 s, the memory
hog reserves 8 GiB without touching it, the disk filler stops at 1 GiB, the stray process
sleeps 120 s, the endless loop meets the cell time limit.

``python tests/redteam/compare.py`` grades the same corpus with plain nbgrader (the
"before" column of tests/redteam/RESULTS.md).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from course.notebooks import fill_solution_cells, notebook_bytes, read_notebook, solution_sources
from fixtures.course_support import fork_loop

ASSIGNMENT = "03-variational-autoencoders"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
POINTS = {"reparameterize": 7, "VAE": 8, "kl_divergence": 7, "vae_loss": 8}
HONEST = POINTS["reparameterize"] + POINTS["kl_divergence"] + POINTS["vae_loss"]  # 22: all but the VAE class
# Limits the red-team run grades with (tests/redteam/test_redteam.py and compare.py).
LIMITS = {"--timeout": "120", "--notebook-timeout": "600", "--memory": "2", "--max-processes": "100", "--disk": "200"}

# A wrong kl_divergence that is still a differentiable tensor of the right shape: only the values are wrong.
WRONG_KL = "def kl_divergence(mu, logvar):\n    return (mu * 0 + logvar * 0).sum(dim=1)\n"
# A wrong vae_loss: a 0-d differentiable tensor, always 0.
WRONG_LOSS = ("def vae_loss(x_hat, x, mu, logvar, reconstruction='bce'):\n"
              "    return (x_hat * 0).sum() + (mu * 0).sum() + (logvar * 0).sum()\n")


@dataclass
class Attack:
    """One submission of the red-team class and the outcome a fair grader gives it."""

    student: str
    what: str  # the attack, in words
    total: float | None  # expected points; None: not graded at all
    attention: str = ""  # a phrase the instructor's attention list must contain ("" : nothing needed)
    base: str = "partial"  # what the submission starts from: "partial" (22 points), "complete" or "blank"
    assignment: str = ASSIGNMENT  # the other assignments appear only with honest, odd-state answers
    printed: list[str] = field(default_factory=list)  # phrases the executed notebook must show
    answers: dict[str, str] = field(default_factory=dict)  # grade id -> source, over the honest partial answers
    edit: str = ""  # name of a notebook edit in EDITS
    extra_cell: str = ""  # a code cell appended at the end
    raw: bytes | None = None  # the file's bytes, instead of a notebook
    beside: dict[str, bytes] = field(default_factory=dict)  # other files in the submission folder


def honest_answers(root: Path) -> dict[str, str]:
    return {name: source for name, source in solutions(root).items() if name != "VAE"}


def solutions(root: Path, assignment: str = ASSIGNMENT) -> dict[str, str]:
    return solution_sources(read_notebook(root / "source_notebooks" / assignment / f"{assignment}.ipynb"))


def build(root: Path, attack: Attack) -> dict[str, bytes]:
    """The files of one submission, by path relative to the class folder."""
    folder, notebook_name = f"{attack.student}/{attack.assignment}", f"{attack.assignment}.ipynb"
    if attack.raw is not None:
        return {f"{folder}/{notebook_name}": attack.raw}
    release = read_notebook(root / "release" / attack.assignment / notebook_name)
    base = {"partial": honest_answers(root), "blank": {}, "complete": solutions(root, attack.assignment)}
    notebook = json.loads(notebook_bytes(fill_solution_cells(release, {**base[attack.base], **attack.answers})))
    if attack.edit:
        EDITS[attack.edit](notebook)
    if attack.extra_cell:
        notebook["cells"].append({"cell_type": "code", "execution_count": None, "id": "red-team", "metadata": {},
                                  "outputs": [], "source": attack.extra_cell})
    files = {f"{folder}/{notebook_name}": json.dumps(notebook, indent=1).encode()}
    files.update({f"{folder}/{name}": data for name, data in attack.beside.items()})
    return files


def cell_named(notebook: dict, name: str) -> dict:
    return next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == name)


def replace_test(notebook: dict) -> None:
    cell_named(notebook, "test_kl_divergence")["source"] = "# all good\n"


def smuggle_into_test(notebook: dict) -> None:
    cell = cell_named(notebook, "test_kl_divergence")
    cell["source"] = ("def kl_divergence(mu, logvar):\n"
                      "    return 0.5 * (logvar.exp() + mu ** 2 - 1 - logvar).sum(dim=1)\n" + "".join(cell["source"]))


def delete_test(notebook: dict) -> None:
    notebook["cells"].remove(cell_named(notebook, "test_kl_divergence"))


def retype_test(notebook: dict) -> None:
    cell = cell_named(notebook, "test_kl_divergence")
    cell["cell_type"] = "markdown"
    cell.pop("outputs", None)
    cell.pop("execution_count", None)


def raise_points(notebook: dict) -> None:
    cell_named(notebook, "test_kl_divergence")["metadata"]["nbgrader"]["points"] = 70


def ungrade_test(notebook: dict) -> None:
    meta = cell_named(notebook, "test_vae_loss_bce")["metadata"]["nbgrader"]
    meta.pop("points", None)
    meta["grade"] = False


def copy_graded_cells(notebook: dict) -> None:
    for name in ("test_reparameterize", "kl_divergence", "test_kl_divergence"):
        notebook["cells"].append(json.loads(json.dumps(cell_named(notebook, name))))


def unknown_kernel(notebook: dict) -> None:
    notebook["metadata"]["kernelspec"] = {"name": "evil-kernel", "display_name": "Evil", "language": "python"}


EDITS = {f.__name__: f for f in (replace_test, smuggle_into_test, delete_test, retype_test, raise_points,
                                  ungrade_test, copy_graded_cells, unknown_kernel)}

ALWAYS_TRUE = '''class AlwaysTrue:
    """Equal to everything, true, any number, any shape."""
    shape = property(lambda self: (3,))
    dtype = property(lambda self: __import__("torch").float32)
    def __eq__(self, other): return True
    def __bool__(self): return True
    def __float__(self): return 0.0
    def __len__(self): return 3
    def __getattr__(self, name): return lambda *args, **kwargs: self
    def __getitem__(self, key): return self
    def __ge__(self, other): return True
    __le__ = __lt__ = __gt__ = __ne__ = __ge__
def kl_divergence(mu, logvar):
    return AlwaysTrue()
'''
LYING_TENSOR = '''class Liar(torch.Tensor):
    """A tensor that says yes to every comparison."""
    def __eq__(self, other): return torch.ones((), dtype=torch.bool)
    def __bool__(self): return True
    def allclose(self, *args, **kwargs): return True
def kl_divergence(mu, logvar):
    return (mu * 0 + logvar * 0).sum(dim=1).as_subclass(Liar)
'''
PATCH_TORCH = WRONG_KL + '''torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.Tensor.all = lambda self, *args, **kwargs: torch.tensor(True)
torch.Tensor.__bool__ = lambda self: True
'''
PATCH_HELPERS = WRONG_KL + '''import helpers.grading
def _accept(*args, **kwargs):
    return args[0] if args else None
helpers.grading.check_close = helpers.grading.check_tensor = check_close = check_tensor = _accept
torch.allclose = lambda *args, **kwargs: True
'''
PATCH_BUILTINS = WRONG_LOSS + '''import builtins
builtins.abs = lambda value: 0
'''
PATCH_NUMPY = WRONG_KL + '''import numpy as np
np.testing.assert_allclose = lambda *args, **kwargs: None
np.allclose = lambda *args, **kwargs: True
torch.allclose = lambda *args, **kwargs: True
'''
OS_EXIT = "import os\n{answer}\nos._exit(0)\n"
KILL_SELF = "import os, signal\n{answer}\nos.kill(os.getpid(), signal.SIGKILL)\n"
COPY_SOLUTION = '''import glob, json
found = glob.glob("{root}/source_notebooks/**/*.ipynb", recursive=True)
print("sees the source notebooks:", bool(found), "sees the gradebook:", bool(glob.glob("{root}/gradebook.db")))
for path in found:
    for cell in json.load(open(path))["cells"]:
        if "def kl_divergence" in "".join(cell["source"]):
            exec("".join(cell["source"]))
if not found:
''' + "".join("    " + line + "\n" for line in WRONG_KL.splitlines())
WRITE_ELSEWHERE = '''import os
for target in ("{root}/gradebook.db", "{root}/canary.txt", "{root}/submitted/honest-complete/{assignment}/{notebook}",
               "{root}/release/{assignment}/{notebook}"):
    try:
        with open(target, "a") as handle:
            handle.write("vandalised")
        print("wrote", target)
    except OSError as error:
        print("could not write:", type(error).__name__)
'''
NETWORK = '''import socket
for host, port in (("pypi.org", 443), ("1.1.1.1", 53), ("127.0.0.1", 22)):
    try:
        socket.create_connection((host, port), timeout=5).close()
        print("network: reached", host)
    except OSError:
        print("network: no route to", host)
'''
ENDLESS = "def kl_divergence(mu, logvar):\n    while True:\n        pass\n"
FORK_BOMB = fork_loop(500)
MEMORY_HOG = '''import mmap
try:  # reserve 8 GiB of private memory, untouched: the limit refuses the reservation itself
    block = mmap.mmap(-1, 8 * 1024 ** 3, flags=mmap.MAP_PRIVATE)
    print("memory: got 8 GiB")
except (MemoryError, OSError) as error:
    print("memory: refused", type(error).__name__)
try:
    big = torch.empty(2 * 1024 ** 3)  # 8 GiB of float32, allocated but never written
    print("memory: got a tensor of 8 GiB")
except (MemoryError, RuntimeError) as error:
    print("memory: tensor refused")
'''
PRINT_FLOOD = '''import sys
for _ in range(10):
    sys.stdout.write("spam\\n" * 1_000_000)  # ten million lines in all
print("printed ten million lines")
'''
DISK_FILLER = '''written = 0
try:
    with open("filler.bin", "wb") as handle:
        for _ in range(1024):  # 1 GiB at most
            handle.write(bytes(1024 ** 2))
            handle.flush()
            written += 1
except OSError as error:
    print("disk: stopped after", written, "MiB")
else:
    print("disk: wrote", written, "MiB")
'''
WRITES_HELPERS = WRONG_KL + '''import os, sys
os.makedirs("helpers", exist_ok=True)
with open("helpers/__init__.py", "w") as handle:
    handle.write("")
with open("helpers/grading.py", "w") as handle:
    handle.write("def check_close(*args, **kwargs):\\n    pass\\ncheck_tensor = check_close\\n")
sys.path.insert(0, os.getcwd())
for name in [n for n in sys.modules if n == "helpers" or n.startswith("helpers.")]:
    del sys.modules[name]
from helpers.grading import check_close, check_tensor
import torch
torch.allclose = lambda *args, **kwargs: True
'''
STRAY = '''import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "{marker}"], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("left a process behind")
'''
SYSTEM_EXIT = "{answer}\nraise SystemExit(0)\n"
# In-process rewrites: a wrong kl_divergence, then a hook that changes the test cells that run later
# (the cells whose code mentions an assert or a check) before or while they run. Each worked against
# tests that ran in the kernel; hidden checks judged in the grader's process do not go through them.
TESTS_ONLY = "lambda code: ('assert' in code or 'check_' in code)"
INPUT_TRANSFORMER = WRONG_KL + f'''_is_test = {TESTS_ONLY}
get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"] if _is_test("".join(lines)) else lines)
'''
RUN_CELL_WRAPPER = WRONG_KL + f'''_is_test = {TESTS_ONLY}
_shell = get_ipython()
_run_cell = _shell.run_cell
_shell.run_cell = lambda raw_cell, *args, **kwargs: _run_cell("pass" if _is_test(raw_cell) else raw_cell, *args, **kwargs)
'''
AST_TRANSFORMER = WRONG_KL + '''import ast
class _Quiet(ast.NodeTransformer):
    """Asserts and check_* calls become `pass`."""
    def visit_Assert(self, node):
        return ast.Pass()
    def visit_Expr(self, node):
        call = node.value
        name = getattr(getattr(call, "func", None), "id", "")
        return ast.Pass() if isinstance(call, ast.Call) and name.startswith("check_") else node
get_ipython().ast_transformers.append(_Quiet())
'''
SHELL_COMPILER = WRONG_KL + f'''_is_test = {TESTS_ONLY}
_compiler = get_ipython().compile
_original = type(_compiler).__call__
def _compile(self, source, *args, **kwargs):
    return _original(self, "pass" if isinstance(source, str) and _is_test(source) else source, *args, **kwargs)
type(_compiler).__call__ = _compile
'''
KERNEL_EXECUTE = WRONG_KL + f'''_is_test = {TESTS_ONLY}
_kernel = get_ipython().kernel
_do_execute = _kernel.do_execute
def _execute(code, *args, **kwargs):
    return _do_execute("pass" if _is_test(code) else code, *args, **kwargs)
_kernel.do_execute = _execute
'''
TRACE_FUNCTION = WRONG_KL + '''import linecache, re, sys
def _skip_asserts(frame, event, arg):
    if not re.search(r"ipykernel_[0-9]+", frame.f_code.co_filename):  # only the notebook's cells: the tests are there
        return None
    if event == "line":
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).lstrip()
        if line.startswith(("assert", "check_")):
            try:
                frame.f_lineno = frame.f_lineno + 1  # jump over the check
            except ValueError:
                pass
    return _skip_asserts
sys.settrace(lambda frame, event, arg: _skip_asserts)
'''
FAKE_RESULTS = WRONG_KL + '''print("test_kl_divergence: all hidden tests passed (7/7)")
__course_reply__ = '{"value": {"tensor": {"dtype": "float32", "shape": [3], "data": "AAAAAAAAAAAAAAAA"}}}'
'''
PROBE_KILLER = WRONG_KL + '''_shell = get_ipython()
_shell.input_transformers_cleanup.append(lambda lines: ["pass\\n"] if "__course" in "".join(lines) else lines)
'''
# Honest code that leaves the kernel in an odd state: every answer cell of every assignment ends with it.
ODD_STATE_TOTALS = {"01-pca-to-autoencoders": 32, "02-deep-and-spherical": 24, ASSIGNMENT: 30,
                    "04-latent-classifier-contrastive": 32}
ODD_STATE = '''
import warnings
torch.set_default_dtype(torch.float64)
torch.set_grad_enabled(False)
torch.manual_seed(12345)
torch.set_num_threads(2)
warnings.simplefilter("error")
'''
# Files beside the notebook that would shadow the real modules, were the notebook run in their folder
# (as plain nbgrader does): a helpers package that is the real one but for checks that accept
# anything, a torch.py that is the real torch but for allclose, and a sitecustomize.py.
FIND_REAL = """import importlib.util, os, sys
_here = os.path.dirname(os.path.abspath(__file__))
_top = _here if os.path.basename(_here) != "helpers" else os.path.dirname(_here)
_path = sys.path[:]
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _top]
"""
FAKE_HELPERS_INIT = (FIND_REAL + """_me = sys.modules.pop(__name__)
_real = os.path.dirname(importlib.util.find_spec("helpers").origin)
sys.modules[__name__], sys.path[:] = _me, _path
__path__ = [_here, _real]  # helpers.grading comes from here, the rest from the real package
exec(compile(open(os.path.join(_real, "__init__.py")).read(), __file__, "exec"))
""").encode()
FAKE_HELPERS_GRADING = (FIND_REAL + """sys.path[:] = _path
_real = [p for p in __import__("helpers").__path__ if p != _here][0]
exec(compile(open(os.path.join(_real, "grading.py")).read(), __file__, "exec"))
def check_close(*args, **kwargs):
    return None
check_tensor = check_scalar = check_module = lambda value, *args, **kwargs: value
""").encode()
FAKE_TORCH = (FIND_REAL + """del sys.modules["torch"]
import torch as _real
_real.allclose = lambda *args, **kwargs: True
sys.modules["torch"] = _real
""").encode()
SITECUSTOMIZE = b"import builtins\nbuiltins.abs = lambda value: 0\n"


def attacks(root: Path, marker: str) -> list[Attack]:
    """The red-team class. ``root`` is the course folder the attacks aim at; ``marker`` tags stray processes."""
    honest = honest_answers(root)
    fmt = {"root": str(root), "assignment": ASSIGNMENT, "notebook": NOTEBOOK, "marker": marker}
    edited = "edited test cells test_kl_divergence (graded with the originals)"
    wrong_kl, cheat_kl = HONEST - POINTS["kl_divergence"], "suspicious code: kl_divergence"
    return [
        # honest work, graded in the same run
        Attack("honest-complete", "every exercise answered correctly", 30, base="complete"),
        Attack("honest-partial", "three of four exercises answered correctly", HONEST),
        *[Attack("odd-state" + ("" if assignment == ASSIGNMENT else "-" + assignment[:2]),
                 "correct answers that leave float64, no grad, a seed, 2 threads and warnings as errors",
                 total, base="complete", assignment=assignment,
                 answers={name: source + ODD_STATE for name, source in solutions(root, assignment).items()})
          for assignment, total in ODD_STATE_TOTALS.items()],
        Attack("blank", "the release notebook as it was handed out", 0, base="blank"),
        # test cells
        Attack("edit-test", "replaces a test cell with a comment", wrong_kl, edited, answers={"kl_divergence": WRONG_KL},
               edit="replace_test"),
        Attack("smuggle-into-test", "defines the right answer inside the test cell", wrong_kl, edited,
               answers={"kl_divergence": WRONG_KL}, edit="smuggle_into_test"),
        Attack("delete-test", "deletes a test cell", wrong_kl, "deleted test cells test_kl_divergence",
               answers={"kl_divergence": WRONG_KL}, edit="delete_test"),
        Attack("retype-test", "turns a test cell into markdown", wrong_kl, edited, answers={"kl_divergence": WRONG_KL},
               edit="retype_test"),
        Attack("raise-points", "gives a test cell 70 points in its metadata", HONEST, "changed grading metadata",
               edit="raise_points"),
        Attack("ungrade-test", "marks a test cell as not graded", HONEST - POINTS["vae_loss"], "changed grading metadata",
               answers={"vae_loss": WRONG_LOSS}, edit="ungrade_test"),
        Attack("copy-graded-cells", "pastes a test cell and an answer cell a second time", HONEST, "extra graded cells",
               edit="copy_graded_cells"),
        # lying results and monkeypatching
        Attack("always-true-object", "returns an object equal to everything", wrong_kl,
               answers={"kl_divergence": ALWAYS_TRUE}),
        Attack("lying-tensor", "returns a Tensor subclass whose comparisons always pass", wrong_kl,
               answers={"kl_divergence": LYING_TENSOR}),
        Attack("patch-torch", "replaces torch.allclose, torch.equal, Tensor.all and Tensor.__bool__", wrong_kl, cheat_kl,
               answers={"kl_divergence": PATCH_TORCH}),
        Attack("patch-helpers", "replaces check_close and check_tensor in helpers and in the notebook", wrong_kl,
               cheat_kl, answers={"kl_divergence": PATCH_HELPERS}),
        Attack("patch-builtins", "replaces builtins.abs", HONEST - POINTS["vae_loss"], "suspicious code: vae_loss",
               answers={"vae_loss": PATCH_BUILTINS}),
        Attack("patch-numpy", "replaces numpy.testing.assert_allclose, numpy.allclose and torch.allclose", wrong_kl,
               cheat_kl, answers={"kl_divergence": PATCH_NUMPY}),
        Attack("writes-helpers", "writes a fake helpers package into its folder and reloads it", wrong_kl, cheat_kl,
               answers={"kl_divergence": WRITES_HELPERS}),
        Attack("ships-helpers", "submits helpers/ (checks that accept anything), torch.py (allclose always true), "
               "helpers.py and sitecustomize.py beside the notebook",
               wrong_kl, answers={"kl_divergence": WRONG_KL},
               beside={"helpers/__init__.py": FAKE_HELPERS_INIT, "helpers/grading.py": FAKE_HELPERS_GRADING,
                       "helpers.py": b"raise ImportError('a module helpers.py loses to the package helpers/')\n",
                       "torch.py": FAKE_TORCH, "sitecustomize.py": SITECUSTOMIZE}),
        # rewriting the tests inside the student's process (they no longer judge: the grader does)
        *[Attack(name, what, wrong_kl, attention_phrase, answers={"kl_divergence": source}) for name, what, source,
          attention_phrase in (
            ("input-transformer", "an IPython input transformer turns later test cells into `pass`", INPUT_TRANSFORMER,
             "rewrites the code of the cells that run later"),
            ("run-cell-wrapper", "replaces get_ipython().run_cell by one that skips test cells", RUN_CELL_WRAPPER,
             "intercepts how cells run"),
            ("ast-transformer", "an AST transformer removes asserts and check_ calls", AST_TRANSFORMER,
             "rewrites the code of the cells that run later"),
            ("shell-compiler", "patches the shell's compiler to compile test cells as `pass`", SHELL_COMPILER,
             "intercepts how cells are compiled"),
            ("kernel-execute", "patches the kernel's do_execute to run `pass` for test cells", KERNEL_EXECUTE,
             "intercepts how the kernel runs code"),
            ("trace-function", "a trace function jumps over every assert and check line", TRACE_FUNCTION,
             "trace function"),
            ("fake-results", "prints that all hidden tests passed and plants a fake probe reply", FAKE_RESULTS,
             "the grader's own names"),
        )],
        Attack("probe-killer", "an input transformer that silences the grader's probes: nothing can be checked after it",
               POINTS["reparameterize"], "test cell did not run as written", answers={"kl_divergence": PROBE_KILLER}),
        # ending the kernel
        Attack("system-exit", "raises SystemExit in an answer cell", HONEST,
               answers={"vae_loss": SYSTEM_EXIT.format(answer=honest["vae_loss"])}),
        Attack("os-exit", "calls os._exit in an answer cell", HONEST - POINTS["vae_loss"], "the kernel died",
               answers={"vae_loss": OS_EXIT.format(answer=honest["vae_loss"])}),
        Attack("kill-kernel", "sends SIGKILL to its own kernel", POINTS["reparameterize"], "the kernel died",
               answers={"kl_divergence": KILL_SELF.format(answer=honest["kl_divergence"])}),
        # reaching outside its folder
        Attack("copy-solution", "reads the source notebook to copy the solution (and looks for gradebook.db)", wrong_kl,
               cheat_kl, printed=["sees the source notebooks: False sees the gradebook: False"],
               answers={"kl_divergence": COPY_SOLUTION.format(**fmt)}),
        Attack("write-elsewhere", "writes into the gradebook, the release and another student's submission", HONEST,
               printed=["could not write"], extra_cell=WRITE_ELSEWHERE.format(**fmt)),
        Attack("network", "opens network connections", HONEST, "opens network connections",
               printed=["network: no route to pypi.org", "network: no route to 1.1.1.1"], extra_cell=NETWORK),
        # resources
        Attack("endless-loop", "an answer that never returns", wrong_kl, "per-cell time limit",
               answers={"kl_divergence": ENDLESS}),
        Attack("fork-bomb", "forks 500 sleeping children against a limit of 100 processes", HONEST,
               printed=["children"], extra_cell=FORK_BOMB),
        Attack("memory-hog", "reserves 8 GiB against a limit of 2 GiB", HONEST,
               printed=["memory: refused", "memory: tensor refused"], extra_cell=MEMORY_HOG),
        Attack("print-flood", "prints ten million lines", HONEST, extra_cell=PRINT_FLOOD),
        Attack("disk-filler", "writes 1 GiB against a limit of 200 MiB", HONEST, printed=["disk: stopped after"],
               extra_cell=DISK_FILLER),
        Attack("stray-process", "leaves a process running after the notebook ends", HONEST, "runs other programs",
               printed=["left a process behind"], extra_cell=STRAY.format(**fmt)),
        # broken files
        Attack("not-a-notebook", "a PDF named like the notebook", None, "not valid JSON",
               raw=b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"),
        Attack("empty", "an empty file", None, "the file is empty", raw=b""),
        Attack("truncated", "a notebook cut off half way", None, "not valid JSON", raw=b'{"cells": [{"cell_type": "co'),
        Attack("unknown-kernel", "asks for a kernel named evil-kernel", HONEST, edit="unknown_kernel"),
    ]
