"""Hidden checks that the student's own code cannot rewrite: judged in the grader's process.

A test cell's visible asserts run in the student's kernel, where anything that ran before
them (an IPython input transformer, a patched ``run_cell``, a trace function...) can change
what they do. Its *hidden* checks do not run there. Each assignment keeps them next to its
solved notebook, in ``source_notebooks/<assignment>/checks.py`` (never released, never
copied where a kernel can read it):

    CHECKS = {"test_kl_divergence": [kl_values, kl_is_differentiable], ...}

    def kl_values(kernel, ref, rng, refs):
        mu, logvar = torch.randn(7, 5, generator=rng), torch.randn(7, 5, generator=rng)
        got = kernel.call("kl_divergence", mu, logvar)
        expect_tensor(got, "kl_divergence(mu, logvar)", shape=(7,), close_to=ref.kl_divergence(mu, logvar))

A check is a function of the :class:`Kernel` (through which it asks the student's kernel to
run the student's code on inputs it chose, and gets plain values back), the reference
namespace ``ref`` (the solved notebook's imports and answer cells, run here), a generator
``rng`` seeded for this grading run and cell, and ``refs``, the values of the assignment's
``REFERENCES`` (functions of the seed, computed once per run by ``course grade``). It
passes by returning, and fails by raising :class:`CheckFailed` with a message for the
student. After each graded test cell has run, the grader runs that cell's checks; a cell
whose checks fail, or whose values never arrive, gets an error output of its own, so that
nbgrader scores it 0 by its own rule (and the formgrader, the exports and the feedback see
that), whatever the kernel printed.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, Callable

from course.probe import Missing, Opaque, RemoteObject, Reply, decode, encode, parse_reply, probe_code, reply_expression

from course.nbgrader_api import CHECKS_FILE  # noqa: E402  (one home: nbgrader is told to leave it out)
FAILED = "HiddenCheckFailed"  # the error name a failed check writes into its cell
NOT_RUN = "HiddenCheckNotRun"  # ... and one whose values never arrived
NOT_RUN_ATTENTION = "test cell did not run as written"


class CheckFailed(AssertionError):
    """A check found the student's answer wrong; the message is shown to the student."""


class NoAnswer(RuntimeError):
    """The kernel sent no usable answer to a probe (it timed out, died, or replied with something else)."""


class StudentError(Exception):
    """The student's code raised while a probe ran it."""

    def __init__(self, kind: str, message: str, what: str):
        self.kind, self.message, self.what = kind, message, what
        super().__init__(f"{what} raised {kind}: {message}")


Send = Callable[[str, str], str | None]  # (probe code, reply expression) -> the kernel's reply text, or None


class Kernel:
    """The student's kernel, as the checks see it: run their code on given inputs, get values back."""

    def __init__(self, send: Send):
        self._send = send
        self.probes = 0

    def request(self, request: dict, what: str) -> Reply:
        """Send one probe; the decoded reply (raises NoAnswer, StudentError)."""
        self.probes += 1
        nonce = secrets.token_hex(8)
        text = self._send(probe_code(request, nonce), reply_expression(nonce))
        if text is None:
            raise NoAnswer(f"no answer from the notebook while checking {what}")
        try:
            reply = parse_reply(text)
        except (ValueError, TypeError, KeyError) as error:
            raise NoAnswer(f"an answer that is not a probe reply while checking {what} ({error})") from None
        if reply.error is not None:
            raise StudentError(*reply.error, what)
        return reply

    def run(self, target: str | tuple[RemoteObject, str], *args: Any, device: bool = False, seed: int | None = None,
            advance: int = 0, no_grad: bool = False, grad: dict | None = None, patch: dict | None = None,
            **kwargs: Any) -> Reply:
        """Call a global of the notebook (or a method of a RemoteObject) on these inputs; the whole reply."""
        if isinstance(target, tuple):
            spec, what = {"object": target[0].number, "method": target[1]}, f"{target[0].type}.{target[1]}"
        else:
            spec, what = target, target
        request = {"op": "call", "target": spec, "args": [encode(a, device) for a in args],
                   "kwargs": {k: encode(v, device) for k, v in kwargs.items()}, "seed": seed, "advance": advance,
                   "no_grad": no_grad, "grad": grad, "patch": patch or {}}
        return self.request(request, f"{what}(...)")

    def call(self, target: str | tuple[RemoteObject, str], *args: Any, **kwargs: Any) -> Any:
        """The value the student's code returns for these inputs."""
        return self.run(target, *args, **kwargs).value

    def gradients(self, target: str, *args: Any, hint: str, wrt: tuple[int, ...] | None = None,
                  **options: Any) -> Reply:
        """``run`` with the gradient of the output's sum with respect to the arguments ``wrt`` (default: all).

        The student's code raising on the way (a numpy detour, an in-place write on a leaf) fails
        the check with ``hint`` and what was raised.
        """
        grad = {"wrt": list(range(len(args)) if wrt is None else wrt), "reduce": "sum"}
        try:
            return self.run(target, *args, grad=grad, **options)
        except StudentError as error:
            raise CheckFailed(f"{hint} ({error.kind}: {error.message})") from None

    def new(self, name: str, *args: Any, **kwargs: Any) -> "Remote":
        """An instance of the notebook's class ``name``, made in the kernel and kept there."""
        made = self.call(name, *args, **kwargs)
        if not isinstance(made, RemoteObject):
            raise CheckFailed(f"{name}(...) should make a torch.nn.Module, but gave {describe(made)}")
        return Remote(self, made)

    def define(self, source: str, what: str) -> None:
        """Run the grader's own ``source`` in the notebook's namespace (stand-ins that later cells use)."""
        self.request({"op": "define", "source": source}, what)

    def get(self, name: str) -> Any:
        """A global of the notebook: a value, or a Remote for a module."""
        value = self.request({"op": "get", "name": name}, name).value
        if isinstance(value, Missing):
            raise CheckFailed(f"{name} is not defined: run the cells above this one first")
        return Remote(self, value) if isinstance(value, RemoteObject) else value


@dataclass(frozen=True)
class State:
    """A module's parameters and buffers by name, and the type of every submodule."""

    parameters: list[tuple[str, Any]]
    buffers: list[tuple[str, Any]]
    modules: list[tuple[str, str]]

    def tensors(self) -> list[Any]:
        return [t for _, t in self.parameters]


class Remote:
    """A module in the student's kernel."""

    def __init__(self, kernel: Kernel, handle: RemoteObject):
        self.kernel, self.handle = kernel, handle

    @property
    def type(self) -> str:
        return self.handle.type

    def __call__(self, *args: Any, **options: Any) -> Any:
        return self.call("forward", *args, **options)

    def call(self, method: str, *args: Any, **options: Any) -> Any:
        return self.kernel.call((self.handle, method), *args, **options)

    def run(self, method: str, *args: Any, **options: Any) -> Reply:
        return self.kernel.run((self.handle, method), *args, **options)

    def state(self) -> State:
        raw = self.kernel.request({"op": "state", "object": self.handle.number}, f"{self.type}'s parameters").raw
        return State([(str(n), decode(t)) for n, t in raw.get("parameters", [])],
                     [(str(n), decode(t)) for n, t in raw.get("buffers", [])],
                     [(str(n), str(t)) for n, t in raw.get("modules", [])])

    def load(self, tensors: list[Any]) -> bool:
        """Copy ``tensors`` into the module's parameters in order; False when count or shapes differ."""
        request = {"op": "load", "object": self.handle.number, "tensors": [encode(t) for t in tensors]}
        return bool(self.kernel.request(request, f"loading weights into {self.type}").raw.get("loaded"))

    def param_grads(self, method: str, *args: Any, reduce: str = "square_mean", output: int | None = None) -> dict:
        """The gradient of every parameter (None where none arrived) of reduce(method(*args))."""
        grad = {"wrt": [], "params": self.handle.number, "output": output, "reduce": reduce}
        return dict(self.run(method, *args, grad=grad).param_grads)


# --- inputs only the kernel can make -----------------------------------------------------------

def generator(seed: int, on_kernel_device: bool = True) -> dict:
    """A fresh ``torch.Generator(device).manual_seed(seed)`` made in the kernel (its DEVICE, or the CPU)."""
    return {"generator": int(seed), "device": "kernel" if on_kernel_device else "cpu"}


def meta(*shape: int, dtype: str = "float32") -> dict:
    """A tensor on PyTorch's "meta" device (shape, no data): it stands in for a GPU, whose tensors
    do not mix with ones made on the CPU."""
    return {"meta": {"shape": list(shape), "dtype": dtype}}


def global_value(name: str) -> dict:
    """The notebook's own global ``name``, passed as an argument as it is."""
    return {"global": name}


# --- what checks compare -------------------------------------------------------------------

def describe(value: Any) -> str:
    """A student-readable name of what a probe returned."""
    import torch

    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {str(value.dtype).replace('torch.', '')}"
    if isinstance(value, Opaque):
        return f"a {value.type}"
    if isinstance(value, RemoteObject):
        return f"a {value.type} module"
    return f"a {type(value).__name__}"


def expect_tensor(value: Any, what: str, shape: tuple | None = None, dtype: Any = None, close_to: Any = None,
                  rtol: float = 1e-5, atol: float = 1e-6, hint: str = "") -> Any:
    """``value`` must be a tensor (of this shape and dtype, close to ``close_to``); returns it."""
    import torch

    suffix = f": {hint}" if hint else ""
    if not isinstance(value, torch.Tensor):
        raise CheckFailed(f"{what} should be a torch tensor, but it is {describe(value)}{suffix}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise CheckFailed(f"{what} should have shape {tuple(shape)}, not {tuple(value.shape)}{suffix}")
    if dtype is not None and value.dtype != dtype:
        raise CheckFailed(f"{what} should have dtype {str(dtype).replace('torch.', '')}, not "
                          f"{str(value.dtype).replace('torch.', '')}{suffix}")
    if close_to is not None:
        expected = torch.as_tensor(close_to).detach().cpu().double()
        got = value.detach().cpu().double()
        if got.shape != expected.shape or not torch.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=False):
            raise CheckFailed(f"{what} has the wrong values{suffix}")
    return value


def expect(condition: bool, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(message)


def expect_number(value: Any, what: str) -> float:
    """``value`` must be a real number or a 0-d tensor; returns it as a float."""
    import torch

    if isinstance(value, torch.Tensor) and value.shape == ():
        return float(value.item())
    if type(value) in (int, float):
        return float(value)
    raise CheckFailed(f"{what} should be a number, but it is {describe(value)}")


def expect_close_call(kernel: "Kernel", name: str, args: tuple, expected: Any, what: str, shape: tuple | None = None,
                      rtol: float = 1e-4, atol: float = 1e-5, hint: str = "", **options: Any) -> Any:
    """The student's ``name(*args)`` must be a tensor close to ``expected``; returns it."""
    got = kernel.call(name, *args, **options)
    return expect_tensor(got, what, shape=tuple(expected.shape) if shape is None else shape, close_to=expected,
                         rtol=rtol, atol=atol, hint=hint)


# --- structure judged by behaviour: the student's weights in the reference architecture -----

MAX_MAPPINGS = 2048  # weight assignments tried before giving up (same-shaped layers are few)


def map_weights(reference, state: State, same_behaviour: Callable[[Any], bool]):
    """The reference module holding the student's parameters, placed so that it behaves as the student's; or None.

    Parameters are matched by shape. Where several have the same shape (two heads of one
    size, the biases of two hidden layers) every placement is tried, and the one kept is
    the one under which ``same_behaviour(module)`` holds: the reference architecture with
    the student's weights computes what the student's module computed. When no placement
    does (other layers, other activations, other wiring), the structure is not the one
    the exercise asks for.
    """
    import copy
    import itertools
    import math as _math

    import torch

    slots = [p for p in reference.parameters()]
    by_shape: dict[tuple, list[int]] = {}
    for index, (_, tensor) in enumerate(state.parameters):
        by_shape.setdefault(tuple(tensor.shape), []).append(index)
    wanted: dict[tuple, list[int]] = {}
    for index, slot in enumerate(slots):
        wanted.setdefault(tuple(slot.shape), []).append(index)
    if {k: len(v) for k, v in by_shape.items()} != {k: len(v) for k, v in wanted.items()}:
        return None
    shapes = sorted(wanted)
    if _math.prod(_math.factorial(len(wanted[s])) for s in shapes) > MAX_MAPPINGS:
        return None
    tensors = state.tensors()
    for choice in itertools.product(*(itertools.permutations(by_shape[s]) for s in shapes)):
        candidate = copy.deepcopy(reference)
        targets = list(candidate.parameters())
        with torch.no_grad():
            for shape, order in zip(shapes, choice):
                for slot, source in zip(wanted[shape], order):
                    targets[slot].copy_(tensors[source].to(targets[slot].dtype))
        candidate.eval()
        with torch.no_grad():
            try:
                if same_behaviour(candidate):
                    return candidate
            except (RuntimeError, ValueError, TypeError):
                continue
    return None


def close(a: Any, b: Any, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Whether two tensors (or tuples of them) have the same shapes and close values."""
    import torch

    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return (isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and len(a) == len(b)
                and all(close(x, y, rtol, atol) for x, y in zip(a, b)))
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor) or a.shape != b.shape:
        return False
    return bool(torch.allclose(a.detach().double().cpu(), b.detach().double().cpu(), rtol=rtol, atol=atol))


# --- the reference: the solved notebook's answers, run in the grader --------------------------

def reference_namespace(notebook_path: Path) -> SimpleNamespace:
    """The solved notebook's imports and answer cells, executed here (trusted code), as a namespace.

    Given cells that train or load data are not run: the answers are definitions, and the
    checks bring their own inputs. ``DEVICE`` is the CPU.
    """
    import nbformat
    import torch

    from course.notebooks import is_solution_cell
    from course.scan import python_source

    notebook = nbformat.read(str(notebook_path), as_version=4)
    namespace: dict[str, Any] = {"__name__": "course_reference", "DEVICE": torch.device("cpu")}
    imports, answers = [], []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(python_source(cell.source))
        except SyntaxError:
            continue
        if is_solution_cell(cell):
            answers.append(cell.source)
        else:
            imports += [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    exec(compile("\n".join(dict.fromkeys(imports)), "<reference imports>", "exec"), namespace)
    for source in answers:
        exec(compile(source, "<reference answer>", "exec"), namespace)
    return SimpleNamespace(**{k: v for k, v in namespace.items() if not k.startswith("__")})


def load_checks(assignment_folder: Path) -> ModuleType | None:
    """The assignment's checks module (``checks.py`` next to its solved notebook), or None."""
    path = assignment_folder / CHECKS_FILE
    if not path.is_file():
        return None
    name = f"course_checks_{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    spec.loader.exec_module(module)
    return module


def cell_generator(seed: int, cell: str):
    """The generator a cell's checks draw their inputs from: this run's seed and the cell's name."""
    import torch

    mixed = int.from_bytes(hashlib.sha256(f"{seed}/{cell}".encode()).digest()[:8], "big") % (2**63)
    return torch.Generator().manual_seed(mixed)


def compute_references(module: ModuleType, ref: SimpleNamespace, seed: int) -> str:
    """The assignment's REFERENCES, computed once per run, as JSON (tensors as probe data)."""
    from course.probe import encode as encode_value

    values = {name: encode_value(function(ref, cell_generator(seed, name)))
              for name, function in getattr(module, "REFERENCES", {}).items()}
    return json.dumps(values)


class LazyReferences(dict):
    """The assignment's REFERENCES, each computed the first time a check asks for it.

    The fairness harness grades one exercise per kernel: most exercises need no reference at
    all, and computing every one for every answer (a baseline trained in the grader) would
    cost more than the answer itself. ``course grade`` computes them all once per run instead.
    """

    def __init__(self, module: ModuleType, ref: SimpleNamespace, seed: int):
        super().__init__()
        self.functions, self.ref, self.seed = getattr(module, "REFERENCES", {}), ref, seed

    def __missing__(self, name: str):
        self[name] = self.functions[name](self.ref, cell_generator(self.seed, name))
        return self[name]


@dataclass
class Verdict:
    """What a test cell's hidden checks found."""

    cell: str
    passed: bool = True
    message: str = ""  # for the student (first failure)
    not_run: bool = False  # values never arrived: the cell did not run as written
    probes: int = 0
    seconds: float = 0.0


@dataclass
class Judge:
    """Runs the hidden checks of one notebook's test cells against one kernel."""

    module: ModuleType
    ref: SimpleNamespace
    seed: int
    references: dict = field(default_factory=dict)

    @classmethod
    def for_assignment(cls, folder: Path, notebook: str, seed: int, references: str = "") -> "Judge | None":
        """The judge of a solved assignment folder, or None when it has no checks."""
        module = load_checks(folder)
        if module is None:
            return None
        ref = reference_namespace(folder / notebook)
        if references:
            return cls(module, ref, seed, {k: decode(v) for k, v in json.loads(references).items()})
        return cls(module, ref, seed, LazyReferences(module, ref, seed))

    def cells(self) -> set[str]:
        return set(getattr(self.module, "CHECKS", {}))

    def judge(self, cell: str, send: Send) -> Verdict:
        """Run the cell's checks in order until one fails."""
        import time

        start = time.monotonic()
        verdict = Verdict(cell)
        kernel = Kernel(send)
        for check in self.module.CHECKS.get(cell, []):
            try:
                check(kernel, self.ref, cell_generator(self.seed, f"{cell}/{check.__name__}"), self.references)
            except CheckFailed as failure:
                verdict.passed, verdict.message = False, str(failure)
            except StudentError as error:
                verdict.passed, verdict.message = False, str(error)
            except NoAnswer as error:
                verdict.passed, verdict.not_run = False, True
                verdict.message = f"{NOT_RUN_ATTENTION}: {error}"
            if not verdict.passed:
                break
        verdict.probes, verdict.seconds = kernel.probes, round(time.monotonic() - start, 3)
        return verdict


def error_output(verdict: Verdict) -> dict:
    """The error output a failed verdict adds to its cell (nbgrader scores the cell 0 for it)."""
    from nbformat import NotebookNode

    name = NOT_RUN if verdict.not_run else FAILED
    return NotebookNode(output_type="error", ename=name, evalue=verdict.message,
                        traceback=[f"{name}: {verdict.message}"])
