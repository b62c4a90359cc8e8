"""Which earlier cells a notebook cell needs: a static analysis of the names cells bind and read.

Grading one exercise does not need the whole notebook: a test of ``pca_reconstruct``
needs the setup cell (imports), the data cell and the exercise's own answer cell, not the
training of three autoencoders further down. The fairness harness grades each catalogued
answer by running only the cells its grade cells depend on.

A cell *needs* a name when it reads it before binding it itself. The cell that provides
it is the last earlier cell that binds it (an assignment, ``def``, ``class``, loop or
``with`` target), as in a top-to-bottom run; a name bound by an ``import`` comes from the
first cell with that same import (the setup cell, usually), since importing again gives
the same module. Cells in between that change the object in place (``model.eval()``,
``model.weight = ...``, ``x[0] = ...``) are needed too. The analysis errs on the generous
side: a missing cell would fail a correct answer, an extra cell only costs time.
"""
from __future__ import annotations

import ast
import symtable
from dataclasses import dataclass

from course.scan import python_source


@dataclass(frozen=True)
class CellNames:
    """What one code cell does with module-level names."""

    binds: frozenset[str]  # names it assigns, defines or imports
    imports: frozenset[tuple[str, str]]  # (name, the import statement that binds it)
    mutates: frozenset[str]  # names whose objects it changes in place
    needs: frozenset[str]  # names it reads before binding them itself
    uses: frozenset[str]  # every name it reads
    star_import: bool = False


def cell_names(source: str) -> CellNames:
    """Analyse one code cell; a cell that does not parse binds, reads and changes nothing."""
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return CellNames(frozenset(), frozenset(), frozenset(), frozenset(), frozenset())
    bound: set[str] = set()
    imports: set[tuple[str, str]] = set()
    mutates: set[str] = set()
    needs = _free_reads(tree.body, bound)
    for statement in tree.body:
        imports |= _import_bindings(statement)
        mutates |= _mutated_names(statement)
    star = any(isinstance(s, ast.ImportFrom) and any(a.name == "*" for a in s.names) for s in tree.body)
    return CellNames(frozenset(bound), frozenset(imports), frozenset(mutates), frozenset(needs),
                     frozenset(_reads(tree)), star)


def _free_reads(statements: list[ast.stmt], bound: set[str]) -> set[str]:
    """Names read before this cell binds them, statement by statement, into with/for/if/try bodies.

    ``bound`` grows with what the statements bind (it is the caller's set).
    """
    needs: set[str] = set()
    for statement in statements:
        blocks = [getattr(statement, name, None) for name in ("body", "orelse", "finalbody")]
        handlers = getattr(statement, "handlers", [])
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or not any(blocks):
            needs |= _reads(statement) - bound
            bound |= _bound_names(statement)
            continue
        for header in _headers(statement):  # evaluated before the body runs
            needs |= _reads(header) - bound
        bound |= _bound_names_of_targets(statement)
        for block in blocks[:1]:
            needs |= _free_reads(block or [], bound)
        for handler in handlers:  # `except E as name:` binds name for the handler's body
            needs |= (_reads(handler.type) if handler.type is not None else set()) - bound
            bound |= {handler.name} if handler.name else set()
            needs |= _free_reads(handler.body, bound)
        for block in blocks[1:]:
            needs |= _free_reads(block or [], bound)
    return needs


def _headers(statement: ast.stmt) -> list[ast.AST]:
    """The expressions of a compound statement evaluated before its body."""
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return [item.context_expr for item in statement.items]
    if isinstance(statement, (ast.For, ast.AsyncFor)):
        return [statement.iter]
    if isinstance(statement, (ast.If, ast.While)):
        return [statement.test]
    return []


def _bound_names_of_targets(statement: ast.stmt) -> set[str]:
    """The loop variable of a ``for``, the ``as`` names of a ``with``."""
    targets = [statement.target] if isinstance(statement, (ast.For, ast.AsyncFor)) else []
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in statement.items if item.optional_vars is not None]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _reads(node: ast.AST) -> set[str]:
    """Module-level names a statement (or a whole cell) reads, with Python's own scoping rules.

    ``symtable`` knows that a function's parameters and locals, and a comprehension's loop
    variable, are not module-level names, while a name a function body reads without
    binding it is.
    """
    return _global_reads(symtable.symtable(ast.unparse(node), "<cell>", "exec"))


def _global_reads(table: symtable.SymbolTable) -> set[str]:
    top = table.get_type() == "module"
    names = {s.get_name() for s in table.get_symbols() if s.is_referenced() and (top or s.is_global())}
    for child in table.get_children():
        names |= _global_reads(child)
    return names


def _bound_names(statement: ast.stmt) -> set[str]:
    """Names a top-level statement binds in the notebook's namespace (not the locals of functions it defines)."""
    table = symtable.symtable(ast.unparse(statement), "<cell>", "exec")
    return {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}


def _import_bindings(statement: ast.stmt) -> set[tuple[str, str]]:
    """(bound name, a canonical form of the import that binds it) for an import statement."""
    if isinstance(statement, ast.Import):
        return {((a.asname or a.name).split(".")[0], f"import {a.name} as {a.asname}") for a in statement.names}
    if isinstance(statement, ast.ImportFrom):
        module = "." * statement.level + (statement.module or "")
        return {(a.asname or a.name, f"from {module} import {a.name}") for a in statement.names if a.name != "*"}
    return set()


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


def providers(analysed: list[CellNames], index: int, name: str) -> set[int]:
    """The earlier cells that give ``name`` its value at cell ``index`` in a top-to-bottom run."""
    binders = [j for j in range(index) if name in analysed[j].binds]
    if not binders:
        return {j for j in range(index) if analysed[j].star_import}
    last = binders[-1]
    import_of = {statement for bound, statement in analysed[last].imports if bound == name}
    if import_of:  # the same import anywhere earlier gives the same module: take the first
        last = next(j for j in binders if import_of & {s for b, s in analysed[j].imports if b == name})
    changes = {j for j in range(last + 1, index) if name in analysed[j].mutates and name not in analysed[j].binds}
    return {last} | changes


def needed_cells(sources: list[str], targets: list[int], keep_out: frozenset[int] = frozenset()) -> list[int]:
    """Indices (in notebook order) of the code cells that the cells ``targets`` need, targets included.

    ``sources`` are the notebook's code cells in order. Cells that bind nothing (seeding,
    settings, figures) are kept too when everything they read is available, so that random
    number streams and settings match a full run as far as possible; ``keep_out`` are cells
    never added for that reason (other exercises' answer and test cells).
    """
    analysed = [cell_names(source) for source in sources]
    needed, frontier = set(targets), list(targets)
    while frontier:
        index = frontier.pop()
        wanted = analysed[index].needs | analysed[index].mutates
        for earlier in set().union(*(providers(analysed, index, name) for name in wanted)) - needed:
            needed.add(earlier)
            frontier.append(earlier)
    return sorted(needed | (_runnable_side_effects(analysed, needed) - keep_out))


def _runnable_side_effects(analysed: list[CellNames], needed: set[int]) -> set[int]:
    """Cells before the last needed one that bind nothing and read only names the needed cells bind."""
    available = set().union(*(analysed[i].binds for i in needed))
    bound_somewhere = set().union(*(cell.binds for cell in analysed))
    return {
        index
        for index, cell in enumerate(analysed[: max(needed)])
        if not cell.binds and (cell.needs & bound_somewhere) <= available
    }
