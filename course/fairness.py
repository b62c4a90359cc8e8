"""Is the grader fair? Mutation testing of every exercise's tests with a catalogue of answers.

The catalogue (``tests/answers/<assignment>/<exercise>/<kind>-<name>.py``) holds, per
exercise, answers a student could hand in: each file is the whole content of the
exercise's answer cell, starting with a header

    # wrong: centres each image instead of each pixel (mean over the wrong axis)
    # breaks: test_pca_reconstruct

(``# alternative: ...`` for a correct answer written differently from the solution;
``# breaks:`` lists the grade cells a wrong answer must fail, by default all of its
exercise's; ``# keeps:`` the cells of its own exercise it must still pass: where a stated
edge case has a cell of its own, an answer that misses only the edge case keeps the points
of its right core). Each answer is graded through the same graded cells nbgrader runs, with the
same scoring (``nbgrader.utils.determine_grade``: an error or anything on stderr scores 0)
and the kernel settings of ``course grade`` (one thread, the offline data, the
NBGRADER_EXECUTION variable). Expected outcomes:

- a wrong answer scores 0 in every cell it breaks, and keeps full points in the test cells
  of every other exercise and in those it declares it keeps;
- an alternative, like the solution itself, keeps full points everywhere.

Grading one answer does not need the whole notebook: :mod:`course.dependencies` picks
the cells the exercise's test cells depend on (for ``pca_reconstruct``: the imports, the
data and the answer cell), and the test cells of other exercises that depend on the
answer cell run too, so the "no other exercise's points" rule is checked where it can be
broken. ``tests/test_fairness.py`` shows on samples that this agrees with a full
``nbgrader autograde`` of a whole submission.
"""
from __future__ import annotations

import copy
import multiprocessing
import os
import re
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course.autograde import grader_data, grading_environment
from course.dependencies import cell_names, needed_cells
from course.settings import GradeSettings
from course.notebooks import exercise_ids, exercise_of, grade_id, grade_points, is_grade_cell, is_solution_cell, read_notebook

KINDS = ("wrong", "alternative")
ANSWER_KINDS = ("solution", *KINDS)  # the solution is graded like any catalogued answer
HEADER = re.compile(r"^#\s*(wrong|alternative):\s*(.+)$")
BREAKS = re.compile(r"^#\s*breaks:\s*(.+)$")
KEEPS = re.compile(r"^#\s*keeps:\s*(.+)$")


@dataclass(frozen=True)
class Answer:
    """One catalogued answer to one exercise (``kind`` "solution" is the source notebook's own)."""

    assignment: str
    exercise: str
    kind: str
    name: str
    description: str
    source: str
    breaks: tuple[str, ...] = ()  # grade ids a wrong answer must fail; empty: all of its exercise's
    keeps: tuple[str, ...] = ()  # grade ids of its own exercise a wrong answer must still pass (partial credit)


@dataclass(frozen=True)
class Plan:
    """How to grade answers to one exercise: which code cells to run, which grade cells to score."""

    exercise: str
    cells: tuple[int, ...]  # indices into the notebook's cells, in order
    solution_cell: int
    targets: tuple[str, ...]  # grade cells that depend on the answer cell
    trains: bool  # a cell in the plan trains a model (calls fit): minutes rather than seconds


@dataclass
class Outcome:
    """What grading one answer gave, and whether that is what the catalogue expects."""

    answer: Answer
    points: dict[str, float] = field(default_factory=dict)
    max_points: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # empty: as expected
    seconds: float = 0.0

    @property
    def as_expected(self) -> bool:
        return not self.problems


def parse_answer(path: Path, assignment: str, exercise: str) -> Answer:
    """Read one catalogue file; its header says what kind of answer it is."""
    text = path.read_text()
    lines = text.splitlines()
    header = HEADER.match(lines[0]) if lines else None
    if header is None:
        raise ValueError(f"{path}: the first line must be '# wrong: ...' or '# alternative: ...'")
    breaks = next((BREAKS.match(line) for line in lines[1:4] if BREAKS.match(line)), None)
    keeps = next((KEEPS.match(line) for line in lines[1:4] if KEEPS.match(line)), None)
    return Answer(
        assignment=assignment, exercise=exercise, kind=header.group(1), name=path.stem,
        description=header.group(2).strip(), source=text,
        breaks=tuple(b.strip() for b in breaks.group(1).split(",")) if breaks else (),
        keeps=tuple(k.strip() for k in keeps.group(1).split(",")) if keeps else (),
    )


def load_catalogue(catalogue: Path, assignment: str) -> list[Answer]:
    """Every answer catalogued for ``assignment``, by exercise then file name."""
    folder = catalogue / assignment
    return [
        parse_answer(path, assignment, path.parent.name)
        for path in sorted(folder.glob("*/*.py"))
    ]


def stand_ins(folder: Path) -> dict[str, tuple[str, ...]]:
    """The names that a test cell's hidden checks may rebind in the notebook (``DEFINES`` in the assignment's
    checks.py: stand-ins for a wrong answer that later cells train on), by test cell."""
    from course.checks import load_checks

    return dict(getattr(load_checks(folder), "DEFINES", {}))


def plans(notebook: NotebookNode, defines: dict[str, tuple[str, ...]] | None = None) -> dict[str, Plan]:
    """For each exercise, the cells that grading an answer to it needs.

    ``defines`` (see :func:`stand_ins`): a test cell whose checks may rebind a name counts as
    reading and binding it, so that a cell which uses the name after it needs that test cell,
    as in a full run, where its checks leave the stand-in before the later cell runs.
    """
    code = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    sources = [notebook.cells[i].source + "".join(f"\n{name} = {name}" for name in (defines or {}).get(
        grade_id(notebook.cells[i]) or "", ())) for i in code]
    position = {i: p for p, i in enumerate(code)}
    graded = frozenset(p for p, i in enumerate(code) if grade_id(notebook.cells[i]))  # answer and test cells
    needs = {
        grade_id(notebook.cells[i]): {code[p] for p in needed_cells(sources, [position[i]], keep_out=graded)}
        for i in code
        if is_grade_cell(notebook.cells[i]) and not is_solution_cell(notebook.cells[i])
    }
    result = {}
    for index in code:
        cell = notebook.cells[index]
        if not is_solution_cell(cell):
            continue
        targets = [test for test, cells in needs.items() if index in cells]
        cells = sorted(set().union(*(needs[t] for t in targets))) if targets else [index]
        trains = any("fit" in cell_names(notebook.cells[i].source).uses for i in cells)
        result[grade_id(cell)] = Plan(grade_id(cell), tuple(cells), index, tuple(targets), trains)
    return result


def run_plan(notebook: NotebookNode, plan: Plan, source: str, settings: GradeSettings, judge=None) -> list[NotebookNode]:
    """Execute the plan's cells with ``source`` in the answer cell, each test cell judged by ``judge``
    (the assignment's hidden checks, as ``course grade`` judges them); returns the executed cells."""
    from nbclient import NotebookClient

    from course.execute import Judging

    class JudgingClient(Judging, NotebookClient):
        pass

    cells = []
    for index in plan.cells:
        cell = copy.deepcopy(notebook.cells[index])
        if index == plan.solution_cell:
            cell.source = source
        cell.outputs = []
        cells.append(cell)
    run = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(notebook.metadata))
    with tempfile.TemporaryDirectory(prefix="fairness-") as workdir:
        client = JudgingClient(run, timeout=settings.cell_timeout, kernel_name="python3", allow_errors=True,
                               resources={"metadata": {"path": workdir}},
                               shutdown_kernel="immediate")  # nothing in it is kept: no graceful wait
        client.judge, client.verdicts, client.probe_timeout = judge, [], settings.cell_timeout
        with client.setup_kernel(env={**os.environ, **grading_environment(settings)}):
            for index, cell in enumerate(run.cells):
                client.execute_cell(cell, index)
                client.judge_cell(cell)
    return run.cells


def score(cells: list[NotebookNode]) -> tuple[dict[str, float], dict[str, float]]:
    """Points per grade cell as nbgrader's autograde scores them (error or stderr: 0)."""
    from nbgrader.utils import determine_grade

    points, max_points = {}, {}
    for cell in cells:
        if is_grade_cell(cell) and not is_solution_cell(cell):
            scored, possible = determine_grade(cell)
            points[grade_id(cell)], max_points[grade_id(cell)] = float(scored or 0), float(possible)
    return points, max_points


def judge(answer: Answer, points: dict[str, float], max_points: dict[str, float], exercises: list[str]) -> list[str]:
    """What differs from the expected outcome (an empty list: as expected)."""
    problems = []
    own = [t for t in points if exercise_of(t, exercises) == answer.exercise]
    broken = set(answer.breaks or own) if answer.kind == "wrong" else set()
    unknown = (broken | set(answer.keeps)) - set(points)
    if unknown:
        problems.append(f"declares it breaks or keeps {', '.join(sorted(unknown))}, which do not test this exercise")
    for test, scored in points.items():
        if test in broken and scored > 0:
            problems.append(f"{test} gave {scored:g} of {max_points[test]:g} points to a wrong answer")
        elif test not in own and scored < max_points[test]:
            problems.append(f"{test} (another exercise) gave {scored:g} of {max_points[test]:g}")
        elif answer.kind != "wrong" and scored < max_points[test]:
            problems.append(f"{test} gave {scored:g} of {max_points[test]:g} points to a correct answer")
        elif test in answer.keeps and scored < max_points[test]:
            problems.append(f"{test} gave {scored:g} of {max_points[test]:g}: the answer's core is right, "
                            "it should keep these points")
    if answer.kind == "wrong" and not own:
        problems.append("no grade cell tests this exercise")
    return problems


def grade_answer(notebook_path: str, answer: Answer, settings: GradeSettings, seed: int = 0) -> Outcome:
    """Grade one answer (a function of plain arguments, so that it runs in a worker process)."""
    from course.checks import Judge

    start = time.monotonic()
    path = Path(notebook_path)
    notebook = read_notebook(path)
    plan = plans(notebook, stand_ins(path.parent))[answer.exercise]
    with grader_data(settings):  # the checks judge trained models on the data the kernel sees
        hidden_checks = Judge.for_assignment(path.parent, path.name, seed)
        points, max_points = score(run_plan(notebook, plan, answer.source, settings, hidden_checks))
    problems = judge(answer, points, max_points, exercise_ids(notebook))
    return Outcome(answer, points, max_points, problems, round(time.monotonic() - start, 1))


def solution_answers(notebook: NotebookNode, assignment: str) -> list[Answer]:
    """The source notebook's own answers: the baseline that must keep full points."""
    return [
        Answer(assignment, grade_id(cell), "solution", "solution", "the source notebook's solution", cell.source)
        for cell in notebook.cells
        if is_solution_cell(cell)
    ]


def select(answers: list[Answer], notebook: NotebookNode, include_training: bool,
           defines: dict[str, tuple[str, ...]] | None = None) -> list[Answer]:
    """Answers to exercises the harness knows; without ``include_training``, only those graded without training."""
    known = plans(notebook, defines)
    unknown = sorted({a.exercise for a in answers} - set(known))
    if unknown:
        raise ValueError(f"the catalogue has answers to {', '.join(unknown)}, which are not exercises of the notebook")
    return [a for a in answers if include_training or not known[a.exercise].trains]


def run(notebook_path: Path, answers: list[Answer], settings: GradeSettings, jobs: int = 1, progress=None,
        seed: int = 0) -> list[Outcome]:
    """Grade every answer, ``jobs`` at a time; ``progress(outcome)`` is called as each finishes."""
    outcomes = []
    # workers are started afresh ("spawn"), not forked: a fork of a process whose torch already ran its thread
    # pool deadlocks in the child's first multi-threaded call (the checks' torch.linalg.qr hung the harness)
    with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(grade_answer, str(notebook_path), answer, settings, seed) for answer in answers]
        for future in futures:
            outcome = future.result()
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    return outcomes


def summary(outcomes: list[Outcome]) -> list[dict]:
    """One row per (assignment, exercise): wrong answers caught and alternatives accepted."""
    rows: dict[tuple[str, str], dict] = {}
    for outcome in outcomes:
        answer = outcome.answer
        row = rows.setdefault((answer.assignment, answer.exercise), {
            "assignment": answer.assignment, "exercise": answer.exercise, "wrong": 0, "caught": 0,
            "alternative": 0, "accepted": 0, "solution_ok": True, "seconds": 0.0})
        row["seconds"] += outcome.seconds
        if answer.kind == "wrong":
            row["wrong"] += 1
            row["caught"] += outcome.as_expected
        elif answer.kind == "alternative":
            row["alternative"] += 1
            row["accepted"] += outcome.as_expected
        else:
            row["solution_ok"] = outcome.as_expected
    return list(rows.values())


def markdown(outcomes: list[Outcome], title: str) -> str:
    """The fairness report: per exercise, then every answer that did not do what it should."""
    rows = summary(outcomes)
    wrong, caught = sum(r["wrong"] for r in rows), sum(r["caught"] for r in rows)
    alternatives, accepted = sum(r["alternative"] for r in rows), sum(r["accepted"] for r in rows)
    lines = [f"# {title}", "", "| assignment | exercise | wrong answers caught | alternatives accepted | solution | seconds |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['assignment']} | `{r['exercise']}` | {r['caught']}/{r['wrong']} | "
                     f"{r['accepted']}/{r['alternative']} | {'full marks' if r['solution_ok'] else 'FAILED'} | "
                     f"{r['seconds']:.0f} |")
    killed = f"Kill rate: {caught}/{wrong} wrong answers caught ({caught / wrong:.0%})" if wrong else "No wrong answer graded"
    lines += ["", f"**{killed}; {accepted}/{alternatives} alternatives accepted.**", ""]
    failures = [o for o in outcomes if not o.as_expected]
    if failures:
        lines += ["## Not as expected", ""]
        for o in failures:
            a = o.answer
            lines.append(f"- {a.assignment} `{a.exercise}` {a.kind} `{a.name}` ({a.description}): " + "; ".join(o.problems))
    lines.append("")
    return "\n".join(lines)


def evaluate_course(root: Path, assignments: list[str], settings: GradeSettings, include_training: bool,
                    jobs: int, catalogue: Path, progress=None,
                    kinds: tuple[str, ...] = ANSWER_KINDS, seed: int = 0) -> list[Outcome]:
    """The solution and every catalogued answer of each assignment (of the given kinds), graded and judged."""
    outcomes = []
    for assignment in assignments:
        path = root / "source_notebooks" / assignment / f"{assignment}.ipynb"
        notebook = read_notebook(path)
        answers = solution_answers(notebook, assignment) + load_catalogue(catalogue, assignment)
        answers = [a for a in select(answers, notebook, include_training, stand_ins(path.parent)) if a.kind in kinds]
        outcomes += run(path, answers, settings, jobs, progress, seed)
    return outcomes


def print_outcome(outcome: Outcome) -> None:
    a = outcome.answer
    verdict = "ok " if outcome.as_expected else "NOT AS EXPECTED"
    print(f"{verdict} {a.assignment} {a.exercise:<28} {a.kind:<11} {a.name:<36} {outcome.seconds:5.1f} s"
          + ("" if outcome.as_expected else "\n    " + "\n    ".join(outcome.problems)), flush=True)
