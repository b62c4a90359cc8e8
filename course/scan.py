"""A static look at the code a student wrote, for what a fair answer never needs.

The sandbox keeps a submission away from the solutions and the gradebook, but inside its
own kernel a submission can still tamper with the machinery its tests run on: replace
``torch.allclose`` or a ``helpers`` check, rebind ``check_close`` to a function that
accepts anything, edit ``sys.modules``, walk up the call stack to read the test's expected
values, or run shell commands. None of that is needed to answer an exercise, so any of it
flags the submission for manual attention (its points are not changed: a person decides).

Only cells whose source differs from every cell of the release notebook are scanned (the
given code, including the Colab setup cell, is the course's own). A cell that is not valid
Python (IPython magics aside) is left to the grader, where it simply fails.
"""
from __future__ import annotations

import ast
import re
from typing import Iterable

# attribute chains (as written) whose use has no place in an answer
FORBIDDEN_NAMES = {
    "sys.modules": "edits the table of loaded modules",
    "sys._getframe": "reads the caller's stack (the test's variables)",
    "inspect.currentframe": "reads the caller's stack (the test's variables)",
    "inspect.stack": "reads the caller's stack (the test's variables)",
    "gc.get_objects": "searches the interpreter's objects",
    "gc.get_referrers": "searches the interpreter's objects",
    "builtins": "changes Python's built-in functions",
    "__builtins__": "changes Python's built-in functions",
    "importlib.reload": "reloads modules",
    "os.system": "runs shell commands",
    "os.popen": "runs shell commands",
    "os.fork": "starts processes",
    "os.kill": "sends signals",
    "os._exit": "ends the kernel",
    "exec": "runs code built as text",
    "eval": "runs code built as text",
    "get_ipython": "reaches into the notebook's IPython shell (it runs the tests too)",
    "sys.settrace": "installs a trace function (it sees every line the tests run)",
    "sys.setprofile": "installs a profile function (it sees every call the tests make)",
    "sys.addaudithook": "installs an audit hook",
    "threading.settrace": "installs a trace function in every thread",
}
GRADER_NAMES = ("__course", "_course_guard", "_course_probe")  # the grader's own variables in the kernel
# attributes of IPython's shell and kernel that rewrite or intercept the cells that run after the answer
SHELL_HOOKS = {
    "input_transformers_cleanup": "rewrites the code of the cells that run later",
    "input_transformers_post": "rewrites the code of the cells that run later",
    "input_transformer_manager": "rewrites the code of the cells that run later",
    "ast_transformers": "rewrites the code of the cells that run later",
    "run_cell": "intercepts how cells run",
    "run_ast_nodes": "intercepts how cells run",
    "run_code": "intercepts how cells run",
    "do_execute": "intercepts how the kernel runs code",
    "execute_request": "intercepts how the kernel runs code",
    "compile": "intercepts how cells are compiled",
    "events": "registers callbacks around every cell",
    "user_expressions": "intercepts what the kernel reports",
}
FORBIDDEN_IMPORTS = {
    "subprocess": "runs other programs",
    "ctypes": "calls C functions directly",
    "socket": "opens network connections",
    "importlib": "imports modules by name",
    "builtins": "changes Python's built-in functions",
}
SHELL_MAGIC = re.compile(r"^\s*(!|%%(bash|sh|script|system|writefile)|%(system|sx|run|load|writefile)\b)", re.M)
READ_FUNCTIONS = {"open", "Path", "load", "loadtxt", "read_csv", "read_text", "read_bytes"}


def dotted(node: ast.AST) -> str:
    """``a.b.c`` for a chain of attributes on a name, else ''."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return ""


def imported_names(tree: ast.AST) -> set[str]:
    """The names an ``import`` binds (``np`` for ``import numpy as np``, ``nn`` for ``from torch import nn``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return names


def python_source(source: str) -> str:
    """The cell with IPython's ``%``/``!`` lines blanked (they are not Python)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def assignment_findings(tree: ast.AST, imported: set[str]) -> list[str]:
    """Assignments to an imported name or to an attribute of one (``torch.allclose = ...``)."""
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in imported:
            found.append(f"line {node.lineno}: redefines `{node.name}`, which the notebook imports")
        for target in targets:
            name = dotted(target)
            root = name.split(".")[0]
            if root in imported and "." in name:
                found.append(f"line {node.lineno}: assigns `{name}`, an attribute of an imported module")
            elif root in imported and isinstance(target, ast.Name):
                found.append(f"line {node.lineno}: rebinds `{name}`, which the notebook imports")
    return found


def call_findings(tree: ast.AST, imported: set[str]) -> list[str]:
    """setattr on imported things, forbidden names, and reads of files outside the folder."""
    found = []
    for node in ast.walk(tree):
        name = dotted(node) if isinstance(node, (ast.Attribute, ast.Name)) else ""
        if name in FORBIDDEN_NAMES:
            found.append(f"line {node.lineno}: uses `{name}`: {FORBIDDEN_NAMES[name]}")
        elif isinstance(node, (ast.Name, ast.Attribute)) and any(
                g in (node.id if isinstance(node, ast.Name) else node.attr) for g in GRADER_NAMES):
            found.append(f"line {node.lineno}: uses `{name or node.attr}`: touches the grader's own names in the kernel")
        elif isinstance(node, ast.Attribute) and node.attr in SHELL_HOOKS and node.attr != "compile":
            found.append(f"line {node.lineno}: uses `.{node.attr}`: {SHELL_HOOKS[node.attr]}")
        elif isinstance(node, ast.Attribute) and node.attr == "compile" and shell_owned(node.value):
            found.append(f"line {node.lineno}: uses `{ast.unparse(node)}`: {SHELL_HOOKS['compile']}")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            for module in modules:
                if module.split(".")[0] in FORBIDDEN_IMPORTS:
                    found.append(f"line {node.lineno}: imports `{module}`: {FORBIDDEN_IMPORTS[module.split('.')[0]]}")
        if not isinstance(node, ast.Call):
            continue
        function = dotted(node.func)
        if function.endswith("events.register"):
            found.append(f"line {node.lineno}: uses `{function}`: {SHELL_HOOKS['events']}")
        if function in ("setattr", "delattr") and node.args and dotted(node.args[0]).split(".")[0] in imported:
            found.append(f"line {node.lineno}: {function} on `{dotted(node.args[0])}`, an imported module")
        if function.split(".")[-1] in READ_FUNCTIONS and outside_path(node):
            found.append(f"line {node.lineno}: opens `{outside_path(node)}`, outside the notebook's folder")
    return found


def shell_owned(node: ast.AST) -> bool:
    """Whether an expression reaches IPython's shell (``get_ipython().compile``, ``ip.compile``, ``shell.compile``),
    as opposed to an ordinary ``re.compile`` or ``torch.compile``."""
    text = ast.unparse(node).lower()
    return any(word in text for word in ("ipython", "shell", "kernel")) or text in ("ip", "_ip")


def outside_path(call: ast.Call) -> str:
    """The first constant path argument that is absolute or climbs out with '..' ('' if none)."""
    for arg in call.args[:1]:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            path = arg.value
            if path.startswith(("/", "~")) or ".." in path.replace("\\", "/").split("/"):
                return path
    return ""


def scan_cell(source: str, imported: set[str]) -> list[str]:
    """Findings for one cell's source (empty when it looks like an ordinary answer)."""
    found = [f"runs a shell command or script magic: `{m.group(0).strip()}`" for m in SHELL_MAGIC.finditer(source)]
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return found
    imported = imported | imported_names(tree)
    return found + assignment_findings(tree, imported) + call_findings(tree, imported)


def scan_submission(cells: Iterable[dict], release_sources: set[str], given_imports: set[str]) -> list[str]:
    """Findings in the code cells a student wrote or changed, each prefixed with the cell's place.

    ``given_imports`` are the names the release notebook imports (``torch``, ``check_close``...).
    """
    findings = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code" or cell.get("source", "") in release_sources:
            continue
        label = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"
        findings += [f"{label}, {finding}" for finding in scan_cell(cell.get("source", ""), given_imports)]
    return findings
