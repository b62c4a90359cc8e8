"""Which earlier cells a notebook cell needs: a static analysis of the names cells define and use.

Grading one exercise does not need the whole notebook: a test of ``pca_reconstruct``
needs the setup cell (imports), the data cell and the exercise's own solution cell,
not the training of three autoencoders further down. The fairness harness grades each
catalogued answer by running only the cells its grade cells depend on.

The analysis is deliberately generous, because a missing cell would fail a correct
answer while an extra cell only costs time. A cell is needed when it defines a name a
needed cell uses (assignment, ``def``, ``class``, ``import``, loop or ``with`` target)
or changes an object bound to such a name in place (``model.eval()``,
``model.weight = ...``, ``x[0] = ...``). Names used inside functions count as used.
Cells that define nothing and mention no earlier name (``seed_everything(0)`` on its
own, ``warnings.filterwarnings(...)``) are side effects that every run keeps.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class CellNames:
    """The module-level names one code cell binds, changes in place, and reads."""

    defines: frozenset[str]
    mutates: frozenset[str]
    uses: frozenset[str]
    star_import: bool = False


def python_source(source: str) -> str:
    """A cell's source without IPython's line magics and shell escapes, which ``ast`` cannot parse."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


def cell_names(source: str) -> CellNames:
    """Analyse one code cell; a cell that does not parse is treated as using and defining nothing."""
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return CellNames(frozenset(), frozenset(), frozenset())
    defines: set[str] = set()
    mutates: set[str] = set()
    star = False
    for statement in tree.body:
        defines |= _bound_names(statement)
        mutates |= _mutated_names(statement)
        star |= isinstance(statement, ast.ImportFrom) and any(a.name == "*" for a in statement.names)
    uses = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return CellNames(frozenset(defines), frozenset(mutates), frozenset(uses), star)


def _bound_names(statement: ast.stmt) -> set[str]:
    """Names a top-level statement binds in the notebook's namespace (not the locals of functions it defines)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in statement.names if alias.name != "*"}
    names, pending = set(), [statement]
    while pending:  # walk the statement, but do not descend into nested function or class bodies
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        pending.extend(ast.iter_child_nodes(node))
    return names


def _mutated_names(statement: ast.stmt) -> set[str]:
    """Names whose objects a statement changes in place: ``a.b = ...``, ``a[i] = ...``, or ``a.f(...)`` on its own line."""
    names = set()
    for node in ast.walk(statement):
        if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, ast.Store):
            names.add(_root_name(node))
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        if isinstance(statement.value.func, ast.Attribute):  # model.eval(), model.apply(init), ...
            names.add(_root_name(statement.value.func.value))
    return names - {None}


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def needed_cells(sources: list[str], targets: list[int]) -> list[int]:
    """Indices (in notebook order) of the code cells that the cells ``targets`` need, targets included.

    ``sources`` are the notebook's code cells in order. After the closure over names, cells
    that bind nothing (seeding, settings, figures) are kept when everything they read is
    available, so that random number streams and settings match a full run as far as possible.
    """
    analysed = [cell_names(source) for source in sources]
    needed = set(targets)
    frontier = list(targets)
    while frontier:
        index = frontier.pop()
        for earlier in range(index):
            cell = analysed[earlier]
            provides = analysed[index].uses & (cell.defines | cell.mutates)
            if earlier not in needed and (provides or cell.star_import):
                needed.add(earlier)
                frontier.append(earlier)
    return sorted(needed | _runnable_side_effects(analysed, needed))


def _runnable_side_effects(analysed: list[CellNames], needed: set[int]) -> set[int]:
    """Cells before the last needed one that bind nothing and read only names the needed cells provide."""
    defined_somewhere = set().union(*(cell.defines for cell in analysed))
    available = set().union(*(analysed[i].defines for i in needed))
    return {
        index
        for index, cell in enumerate(analysed[: max(needed)])
        if not cell.defines and (cell.uses & defined_somewhere) <= available
    }
