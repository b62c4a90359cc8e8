"""``course report``: per assignment, a figure and a markdown summary from the gradebook.

``reports/<assignment>.png``: the score histogram and, per exercise, the share of
submissions that passed all of its test cells. ``reports/<assignment>.md``: the same in
numbers, the submissions that need manual attention (the reasons ``course grade``
recorded in reports/attention.csv: kernel died, timed out, not gradable, suspicious code;
and the students of the gradebook without a notebook for this assignment), and the
points people set by hand (``course override``) with their reasons.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from course.config import CourseConfig
from course.gradebook import read_attention
from course.notebooks import exercise_ids, exercise_of, read_notebook


@dataclass
class AssignmentScores:
    """What the report shows about one assignment."""

    assignment: str
    max_score: float
    scores: dict[str, float]  # student -> total
    cells: dict[str, dict[str, tuple[float, float]]]  # student -> grade id -> (points, max)
    missing: list[str]  # students in the gradebook without a submission


def load_scores(db_url: str, assignment: str) -> AssignmentScores:
    """Totals and per-cell points of every submission of ``assignment``."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        record = gb.find_assignment(assignment)
        scores, cells = {}, {}
        for submission in gb.assignment_submissions(assignment):
            student = submission.student.id
            scores[student] = submission.score
            cells[student] = {g.name: (g.score or 0.0, g.max_score) for nb in submission.notebooks for g in nb.grades}
        missing = sorted({s.id for s in gb.students} - set(scores))
        return AssignmentScores(assignment, record.max_score, scores, cells, missing)


def pass_rates(data: AssignmentScores, exercises: list[str]) -> dict[str, float]:
    """Per exercise: the share of submissions with full points on every one of its test cells."""
    rates = {}
    for exercise in exercises:
        passed = [
            all(points >= top for name, (points, top) in per_cell.items() if exercise_of(name, exercises) == exercise)
            for per_cell in data.cells.values()
        ]
        rates[exercise] = sum(passed) / len(passed) if passed else 0.0
    return rates


def figure(data: AssignmentScores, rates: dict[str, float]):
    """Score histogram and pass rates, side by side (a matplotlib Figure, no pyplot state)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(11, 4), layout="constrained")
    hist, bars = fig.subplots(1, 2, width_ratios=[1, 1.3])
    top = max(data.max_score, 1.0)
    hist.hist(list(data.scores.values()), bins=min(20, max(5, int(top))), range=(0, top), color="#4c72b0")
    hist.set(title=f"{data.assignment}: scores ({len(data.scores)} submissions)", xlabel="points", ylabel="submissions")
    hist.yaxis.set_major_locator(MaxNLocator(integer=True))
    bars.barh(list(rates)[::-1], [100 * r for r in list(rates.values())[::-1]], color="#55a868")
    bars.set(title="passed all tests of the exercise", xlabel="% of submissions", xlim=(0, 100))
    return fig


def markdown(data: AssignmentScores, rates: dict[str, float], attention: list[dict], overrides: list = ()) -> str:
    """The summary page of one assignment (``overrides``: its :class:`course.overrides.Override` records)."""
    values = list(data.scores.values())
    lines = [f"# {data.assignment}", "", f"![scores and pass rates]({data.assignment}.png)", "",
             f"- submissions graded: {len(values)}", f"- points possible: {data.max_score:g}"]
    if values:
        lines += [f"- mean: {statistics.mean(values):.2f}, median: {statistics.median(values):g}, "
                  f"min: {min(values):g}, max: {max(values):g}"]
    lines += ["", "| exercise | passed all its tests |", "| --- | --- |"]
    lines += [f"| `{exercise}` | {100 * rate:.0f}% |" for exercise, rate in rates.items()]
    lines += ["", "## Needs manual attention", ""]
    rows = [f"- {row['student'] or '(unknown student)'}: {row['reason']}" for row in attention]
    rows += [f"- {student}: missing notebook (no submission for this assignment)" for student in data.missing]
    lines += rows or ["Nothing: every submission was graded without problems."]
    if overrides:
        lines += ["", "## Manual overrides", "", "Points a person set on a test cell (`course override`), and why:", ""]
        lines += [f"- {override.describe()}" for override in overrides]
    return "\n".join(lines) + "\n"


def report(config: CourseConfig, db_url: str | None = None) -> list[Path]:
    """Write the PNG and markdown of every assignment that has submissions; returns the files."""
    from nbgrader.api import MissingEntry

    from course.overrides import list_overrides

    if db_url is None and not (config.root / "gradebook.db").exists():
        return []
    written = []
    attention = read_attention(config.reports / "attention.csv")
    for assignment in config.assignments():
        try:
            data = load_scores(db_url or config.db_url, assignment)
        except MissingEntry:  # not in the gradebook yet: nothing graded
            continue
        source = read_notebook(next((config.source / assignment).glob("*.ipynb")))
        rates = pass_rates(data, exercise_ids(source))
        config.reports.mkdir(parents=True, exist_ok=True)
        png, md = config.reports / f"{assignment}.png", config.reports / f"{assignment}.md"
        figure(data, rates).savefig(png, dpi=100, metadata={"Software": None})
        md.write_text(markdown(data, rates, [row for row in attention if row["assignment"] == assignment],
                               list_overrides(db_url or config.db_url, assignment)))
        written += [png, md]
    return written
