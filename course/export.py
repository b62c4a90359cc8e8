"""``course export``: the gradebook's scores (and the feedback) in the form an LMS or a spreadsheet takes.

    course export --format canvas --template canvas-export.csv   scores into Canvas's own export
    course export --format moodle [--template moodle-export.csv] Moodle's CSV grade import
    course export --format csv                                   one row per student, one column per assignment, total

Output goes to ``exports/<format>-grades.csv`` (or ``--output``); ``--feedback`` adds one
zip of feedback per assignment beside it (:mod:`course.bundle`). Students who did not hand
an assignment in get an empty cell or 0 (``--missing``). Students that are on one side
only (the gradebook or the LMS file) are listed, never dropped quietly; the command exits
1 when a graded student's scores could not be put in the file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from course.bundle import Bundle, feedback_bundle
from course.grades import GradeTable, load_grade_table, number
from course.lms import Filled, LmsError, LmsOptions, Sheet, canvas_fresh, fill_canvas, fill_moodle, moodle_fresh, read_sheet

FORMATS = ("canvas", "moodle", "csv")
MISSING = ("empty", "zero")


@dataclass(frozen=True)
class ExportResult:
    """What ``course export`` wrote and what did not line up."""

    format: str
    path: Path
    filled: Filled
    bundles: tuple[Bundle, ...] = ()
    template: Path | None = None

    @property
    def complete(self) -> bool:
        """Every graded student's scores are in the file."""
        return not self.filled.only_in_gradebook


def parse_columns(pairs: list[str] | None) -> dict[str, str]:
    """``--column ASSIGNMENT=LMS TITLE`` options as a mapping."""
    columns = {}
    for pair in pairs or []:
        assignment, sep, title = pair.partition("=")
        if not sep or not assignment.strip() or not title.strip():
            raise LmsError(f"--column {pair!r}: write it as ASSIGNMENT='LMS column title'")
        columns[assignment.strip()] = title.strip()
    return columns


def wide_table(table: GradeTable, missing: str) -> Filled:
    """One row per student, one column per assignment, then the total of the points earned."""
    header = ("student", "last name", "first name", *table.assignments, "total")
    rows, no_submission = [header], []
    for student in table.students:
        cells = []
        for assignment in table.assignments:
            points = student.scores.get(assignment)
            if points is None:
                no_submission.append((student.id, assignment))
            cells.append(number(points) if points is not None else ("0" if missing == "zero" else ""))
        rows.append((student.id, student.last_name, student.first_name, *cells,
                     number(sum(student.scores.get(a, 0.0) for a in table.assignments))))
    # a byte-order mark makes spreadsheet programs read the file as UTF-8 (names with accents)
    return Filled(Sheet(tuple(rows), bom=True), "student", {a: a for a in table.assignments},
                  tuple(s.id for s in table.students), no_submission=tuple(no_submission))


def grade_file(table: GradeTable, fmt: str, template: Path | None, options: LmsOptions) -> Filled:
    """The grade file of ``fmt`` for ``table``: the template filled in, or written fresh."""
    unknown = sorted(set(options.columns) - set(table.assignments))
    if unknown:
        raise LmsError(f"--column names {', '.join(unknown)}, which is not exported (exported: {', '.join(table.assignments)})")
    if fmt == "csv":
        if template is not None:
            raise LmsError("--template is for --format canvas or moodle: the csv format is written fresh")
        return wide_table(table, options.missing)
    if options.comments and fmt != "moodle":
        raise LmsError("--comments is for --format moodle (Canvas's grade import takes no comments)")
    if options.rescale and (fmt != "canvas" or template is None):
        raise LmsError("--rescale needs --format canvas with --template (the template says each assignment's points)")
    if fmt == "canvas":
        if template is None:
            return canvas_fresh(table, options.match, options.missing, options.columns)
        return fill_canvas(read_sheet(template), table, options.match, options.missing, options.columns, options.rescale)
    if template is None:
        return moodle_fresh(table, options.match, options.missing, options.columns, options.comments)
    return fill_moodle(read_sheet(template), table, options.match, options.missing, options.columns, options.comments)


def export(root: Path, db_url: str, fmt: str, assignments: list[str] | None = None, template: Path | None = None,
           output: Path | None = None, options: LmsOptions = LmsOptions(), feedback: bool = False) -> ExportResult:
    """Write the grade file (and, with ``feedback``, one feedback zip per assignment next to it)."""
    if fmt not in FORMATS:
        raise LmsError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    table = load_grade_table(db_url, assignments)
    if not table.assignments:
        raise LmsError("the gradebook has no assignments yet: grade some submissions first (`course grade`)")
    filled = grade_file(table, fmt, template, options)
    path = output or root / "exports" / f"{fmt}-grades.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(filled.sheet.text(), encoding=filled.sheet.encoding, newline="")
    bundles = ()
    if feedback:
        layout = "moodle" if fmt == "moodle" else "plain"
        suffix = "-moodle" if layout == "moodle" else ""
        bundles = tuple(feedback_bundle(root / "feedback", table, a, layout, path.parent / f"{a}-feedback{suffix}.zip")
                        for a in table.assignments)
    return ExportResult(fmt, path, filled, bundles, template)


def _listed(names: tuple[str, ...] | list[str], limit: int = 12) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def summary(result: ExportResult, missing: str) -> list[str]:
    """What the instructor should read after an export, one line each (the CLI prints them)."""
    filled = result.filled
    lines = [f"wrote {result.path}: {len(filled.written)} students, {len(filled.columns)} assignments"
             + (f", students matched on {filled.match!r}" if result.format != "csv" else "")]
    lines += [f"  {assignment} -> {title!r}" for assignment, title in filled.columns.items() if title != assignment]
    if filled.no_submission:
        pairs = [f"{who} ({assignment})" for who, assignment in filled.no_submission]
        written = "0" if missing == "zero" else "left as the LMS file has it" if result.template else "left empty"
        lines.append(f"no submission, {written}: {_listed(pairs)}")
    if filled.only_in_lms:
        cells = "their scores set to 0" if missing == "zero" else "their scores left as they are"
        lines.append(f"in the LMS file, not in the gradebook ({len(filled.only_in_lms)}; no submission, {cells}): "
                     f"{_listed(filled.only_in_lms)}")
    if filled.only_in_gradebook:
        lines.append(f"NOT in the file ({len(filled.only_in_gradebook)} graded students the LMS file does not list): "
                     f"{_listed(filled.only_in_gradebook)}")
    lines += [f"warning: {w}" for w in filled.warnings]
    for bundle in result.bundles:
        lines.append(f"wrote {bundle.path}: feedback of {len(bundle.students)} students")
        if bundle.without_feedback:
            lines.append(f"  no feedback file for {_listed(bundle.without_feedback)} (see reports/attention.csv)")
        if bundle.not_bundled:
            lines.append(f"  not in the zip: {_listed(bundle.not_bundled)}")
    return lines
