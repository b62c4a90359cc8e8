"""Put a grading kernel back in a known state before the course's own code runs again.

A submission runs in the same Python process as its tests. Whatever state its cells leave
behind, the tests that follow see: a ``torch.allclose`` replaced by a function that always
answers True, a ``check_close`` rebound to one that accepts anything, a default dtype of
float64, gradients switched off, warnings turned into errors. The grader (``course
grade``) therefore calls :func:`snapshot` once, before the first cell, and :func:`restore`
before every cell that is not the student's (given code and test cells), so that

- the functions of the modules the tests rely on (``torch``, ``numpy``, ``math``,
  ``builtins``, ``helpers``...) and the methods of ``torch.Tensor`` and ``nn.Module`` are
  the originals again, and ``sys.modules`` maps their names to the real modules;
- the names the release notebook imports (``torch``, ``F``, ``check_close``...) are bound
  to the real objects in the notebook's namespace;
- torch's global settings (default dtype and device, grad mode, threads, deterministic
  algorithms, anomaly detection), NumPy's error handling and the warnings filters are as
  they were when the kernel started.

Random number generators are not reset: every test draws from its own seeded generator
or checks properties that hold for any draw, and the training cells seed themselves.

This is a second line of defence: code in the same process can always dig deeper (the
static scan of :mod:`course.scan` flags the usual ways for a person to look at), but
the easy cheats, and honest code that changes a global setting, no longer decide a grade.
The snapshot lives in this module (one kernel grades one notebook).
"""
from __future__ import annotations

import importlib
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any

# Modules whose attributes the tests call (numpy.testing, torch.testing: reference checks).
GUARDED_MODULES = (
    "builtins", "math", "random", "warnings", "numpy", "numpy.testing", "numpy.linalg",
    "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.linalg", "torch.testing",
    "torch.distributions", "helpers", "helpers.grading", "helpers.metrics", "helpers.train",
    "helpers.device", "helpers.data", "helpers.guard",
)


@dataclass
class Snapshot:
    """What :func:`restore` puts back."""

    modules: dict[str, Any] = field(default_factory=dict)  # name -> module object
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)  # module name -> its __dict__ copy
    classes: list[tuple[type, dict[str, Any]]] = field(default_factory=list)  # class, its __dict__ copy
    settings: dict[str, Any] = field(default_factory=dict)
    filters: list = field(default_factory=list)
    path: list[str] = field(default_factory=list)  # sys.path: a folder put first would shadow the real modules


_snapshot: Snapshot | None = None
_MISSING = object()  # told apart from any attribute value, None included


def guarded_classes() -> list[type]:
    """Classes whose methods a test relies on (``==``, ``allclose``, ``parameters()``...)."""
    import torch
    from torch import nn

    return [torch.Tensor, nn.Module, nn.Parameter, nn.Sequential]


def torch_settings() -> dict[str, Any]:
    import numpy as np
    import torch

    return {
        "dtype": torch.get_default_dtype(), "device": default_device_override(),
        "grad": torch.is_grad_enabled(), "threads": torch.get_num_threads(),
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "deterministic_warn_only": torch.is_deterministic_algorithms_warn_only_enabled(),
        "anomaly": torch.is_anomaly_enabled(), "numpy_errors": np.geterr(),
    }


def default_device_override() -> Any:
    """The device of ``torch.set_default_device``, or None when none was set (the usual case).

    Setting it back to "cpu" explicitly would not do: any override slows every torch call.
    """
    import torch

    context = getattr(torch._GLOBAL_DEVICE_CONTEXT, "device_context", None)
    return None if context is None else context.device


def snapshot(imports: str = "") -> Snapshot:
    """Record the state to come back to; ``imports`` (the release's import lines) are run first."""
    global _snapshot
    if imports:
        exec(compile(imports, "<release imports>", "exec"), {})  # load what the notebook will use
    modules = {name: importlib.import_module(name) for name in GUARDED_MODULES}
    modules.update({name: module for name, module in sys.modules.items() if name.startswith("helpers.")})
    state = Snapshot(modules=modules, classes=[(cls, dict(vars(cls))) for cls in guarded_classes()],
                     settings=torch_settings(), filters=list(warnings.filters), path=list(sys.path))
    _snapshot = state  # before copying this module's own attributes, which include it
    state.attributes = {name: dict(vars(module)) for name, module in modules.items()}
    register(sys.modules[__name__])
    return state


def register(module: Any) -> None:
    """Keep this module where the grader finds it even if ``sys.modules`` is emptied: on the IPython shell."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell._course_guard = module


def restore(namespace: dict[str, Any] | None = None, imports: str = "") -> list[str]:
    """Undo changes made since :func:`snapshot`; returns what was changed (for the record).

    ``namespace`` is the notebook's (``get_ipython().user_ns``): the release's ``imports``
    are run in it again, which binds their names to the real objects.
    """
    state = _snapshot or snapshot(imports)
    # settings first: torch.set_default_dtype also rebinds torch.Storage
    changed = restore_settings(state) + restore_modules(state) + restore_classes(state)
    if sys.path != state.path:
        sys.path[:] = state.path
        changed.append("sys.path")
    if namespace is not None and imports:
        exec(compile(imports, "<release imports>", "exec"), namespace)
    return changed


def restore_modules(state: Snapshot) -> list[str]:
    changed = []
    for name, module in state.modules.items():
        if sys.modules.get(name) is not module:
            sys.modules[name] = module
            changed.append(f"sys.modules[{name!r}]")
        current = vars(module)
        for key, value in state.attributes[name].items():
            if current.get(key, _MISSING) is not value:
                setattr(module, key, value)
                changed.append(f"{name}.{key}")
    return changed


def restore_classes(state: Snapshot) -> list[str]:
    changed = []
    for cls, attributes in state.classes:
        for key in [k for k in vars(cls) if k not in attributes]:
            delattr(cls, key)  # a method added to shadow an inherited one (Tensor.__bool__)
            changed.append(f"{cls.__name__}.{key}")
        for key, value in attributes.items():
            if vars(cls).get(key, _MISSING) is not value:
                setattr(cls, key, value)
                changed.append(f"{cls.__name__}.{key}")
    return changed


def set_deterministic(mode: bool, warn_only: bool) -> None:
    """``torch.use_deterministic_algorithms`` without importing torch's compiler to do it.

    The public function imports ``torch._inductor`` (and with it dynamo and sympy: about 5 s,
    before every graded notebook's first test) only to set its ``deterministic`` flag; that
    flag matters only where the compiler is already loaded.
    """
    import torch

    compiler_config = sys.modules.get("torch._inductor.config")
    if compiler_config is not None:
        compiler_config.deterministic = mode
    torch._C._set_deterministic_algorithms(mode, warn_only=warn_only)


def restore_settings(state: Snapshot) -> list[str]:
    import numpy as np
    import torch

    now, then = torch_settings(), state.settings
    changed = [key for key in then if now[key] != then[key]]
    torch.set_default_dtype(then["dtype"])
    if now["device"] != then["device"]:
        torch.set_default_device(then["device"])
    torch.set_grad_enabled(then["grad"])
    set_deterministic(then["deterministic"], then["deterministic_warn_only"])
    torch.autograd.set_detect_anomaly(then["anomaly"])
    np.seterr(**then["numpy_errors"])
    if now["threads"] != then["threads"]:
        torch.set_num_threads(then["threads"])
    if warnings.filters != state.filters:
        warnings.filters[:] = state.filters
        warnings._filters_mutated()  # the module caches its decisions per filter list
        changed.append("warnings.filters")
    return changed

