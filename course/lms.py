"""Grade files in the layouts Canvas and Moodle import, filled from their own exports or written fresh.

Canvas (Grades > Import) takes a CSV shaped like its gradebook export: identity columns
``Student, ID, SIS User ID, SIS Login ID[, Integration ID][, Root Account], Section``, one
column per assignment named ``<title> (<assignment id>)``, read-only total columns, and a
``Points Possible`` row under the header. It finds a student by any of the ID columns and
an assignment by the id in parentheses; a column it does not know becomes a new assignment.
The safest file is therefore the instructor's own export with scores written into it:
``course export --format canvas --template <export>.csv``.

Moodle (Grader report > Import > CSV file) maps one column to users by e-mail address,
username, ID number or user id, and every other column to a grade item or to a grade
item's feedback; its own export (``First name, Last name, ID number, Institution,
Department, Email address, <Type>: <item> (Real), ..., Last downloaded from this course``)
imports back unchanged. An unknown user aborts the whole import, and an empty or ``-``
cell clears that grade.

Both fills share one rule: gradebook students are matched on one identity column (chosen,
or the one matching the most students), their scores go into the columns of the matched
assignments, and everything that does not line up is reported, never dropped quietly.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from course.grades import GradeTable, StudentGrades, key_of, number

CANVAS_IDS = {"id": "ID", "sis-user-id": "SIS User ID", "sis-login-id": "SIS Login ID"}
CANVAS_NAMES = ("Student", "LastName", "FirstName")  # one name column, or two when Canvas shows first and last names
CANVAS_FIXED = (*CANVAS_NAMES, "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Root Account", "Section")
CANVAS_READ_ONLY = re.compile(r"\b(current|final|unposted current|unposted final|override) (score|points|grade)$", re.I)
CANVAS_ASSIGNMENT_ID = re.compile(r"\s*\((\d+)\)\s*$")
POINTS_POSSIBLE = "Points Possible"
KEPT = ("EX", "N/A")  # Canvas's marks for excused and not assigned: a missing submission there stays so, never 0
MOODLE_IDS = {"email": "Email address", "username": "Username", "idnumber": "ID number"}
MOODLE_TYPE = re.compile(r"\s*\((Real|Percentage|Letter)\)\s*$", re.I)
MOODLE_ITEM = re.compile(r"^\s*[^:]{1,40}:\s*")  # "Assignment: ", "Quiz: ", "Manual item: "
MOODLE_FEEDBACK = re.compile(r"^\s*Feedback:\s*", re.I)
MATCH_CHOICES = ("auto", *CANVAS_IDS, *MOODLE_IDS)


class LmsError(ValueError):
    """A template or an option that cannot work: the message names the problem and the fix."""


@dataclass(frozen=True)
class Sheet:
    """A CSV file as rows of cells, and how it was written (so a filled template keeps its form)."""

    rows: tuple[tuple[str, ...], ...]
    delimiter: str = ","
    line_end: str = "\n"
    bom: bool = False

    def text(self) -> str:
        """The CSV text (without the byte-order mark, which :attr:`encoding` adds)."""
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=self.delimiter, lineterminator=self.line_end).writerows(self.rows)
        return buffer.getvalue()

    @property
    def encoding(self) -> str:
        return "utf-8-sig" if self.bom else "utf-8"


@dataclass(frozen=True)
class Filled:
    """A grade file for an LMS and what did not line up on the way."""

    sheet: Sheet
    match: str  # the LMS column students were matched on
    columns: dict[str, str]  # course assignment -> LMS column
    written: tuple[str, ...] = ()  # gradebook students with a row in the file
    only_in_gradebook: tuple[str, ...] = ()  # students whose grades are NOT in the file
    only_in_lms: tuple[str, ...] = ()  # LMS rows no gradebook student matched
    no_submission: tuple[tuple[str, str], ...] = ()  # (gradebook student, assignment not handed in)
    warnings: tuple[str, ...] = ()


def read_sheet(path: Path) -> Sheet:
    """Read an LMS export: UTF-8 (with or without a byte-order mark), comma, semicolon or tab separated."""
    if not path.is_file():
        raise LmsError(f"template {path} does not exist: download the gradebook export from the LMS first")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LmsError(f"template {path} is not UTF-8 text: export it from the LMS again (CSV, UTF-8)") from None
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    rows = tuple(tuple(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not rows or not any(rows[0]):
        raise LmsError(f"template {path} is empty: export the gradebook from the LMS again")
    width = len(rows[0])
    rows = tuple(row + ("",) * (width - len(row)) for row in rows if any(cell.strip() for cell in row))
    return Sheet(rows, delimiter, "\r\n" if "\r\n" in text[: len(first) + 2] else "\n", data.startswith(b"\xef\xbb\xbf"))


def normalised(name: str) -> str:
    """A column or assignment name compared loosely: case, spaces and punctuation ignored."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def map_columns(header: tuple[str, ...], candidates: list[int], assignments: tuple[str, ...],
                explicit: dict[str, str], clean: Callable[[str], str], prefer: Callable[[str], bool]) -> dict[str, int]:
    """Course assignment -> column index: ``explicit`` names first, else the one column whose cleaned name matches."""
    found = {}
    for assignment in assignments:
        if assignment in explicit:
            wanted = explicit[assignment]
            hits = [i for i in range(len(header)) if header[i] == wanted] or \
                   [i for i in range(len(header)) if normalised(clean(header[i])) == normalised(clean(wanted))]
            if not hits:
                raise LmsError(f"--column {assignment}={wanted!r}: the template has no such column; "
                               f"its assignment columns: {', '.join(header[i] for i in candidates) or 'none'}")
        else:
            hits = [i for i in candidates if normalised(clean(header[i])) == normalised(assignment)]
            if not hits:
                raise LmsError(f"the template has no column for {assignment} (its assignment columns: "
                               f"{', '.join(repr(header[i]) for i in candidates) or 'none'}): name it with "
                               f"--column {assignment}='<column>', or leave it out with --assignment")
        if len(hits) > 1:
            preferred = [i for i in hits if prefer(header[i])]
            if len(preferred) != 1:
                raise LmsError(f"several template columns fit {assignment} ({', '.join(header[i] for i in hits)}): "
                               f"choose one with --column {assignment}='<column>'")
            hits = preferred
        found[assignment] = hits[0]
    return found


def match_students(rows: list[int], sheet: Sheet, id_columns: dict[str, int], table: GradeTable,
                   match: str) -> tuple[str, dict[int, StudentGrades], list[str]]:
    """Which gradebook student each LMS row is: (column used, row index -> student, warnings)."""
    index, warnings = {}, []
    for student in table.students:
        for key in student.keys():
            if index.setdefault(key, student) is not student:
                warnings.append(f"{key!r} names both {index[key].id} and {student.id} in the gradebook: matched to {index[key].id}")
    if match != "auto" and match not in id_columns:
        raise LmsError(f"--match {match}: the template has no {match} column (it has {', '.join(id_columns) or 'none'})")
    counts = {name: sum(key_of(sheet.rows[r][col]) in index for r in rows) for name, col in id_columns.items()}
    chosen = match if match != "auto" else max(counts, key=lambda name: counts[name], default="")
    if not counts or counts[chosen] == 0:
        sample = ", ".join(s.id for s in table.students[:3])
        names = " / ".join(sheet.rows[0][col] for col in id_columns.values())
        raise LmsError(f"none of the gradebook's {len(table.students)} students ({sample}, ...) appears in the template's "
                       f"{names} column{'s' if len(id_columns) > 1 else ''}: is it this course's "
                       "export? Otherwise choose the column with --match, or record each student's LMS id in the gradebook")
    matched, seen = {}, {}
    for r in rows:
        student = index.get(key_of(sheet.rows[r][id_columns[chosen]]))
        if student is None:
            continue
        if student.id in seen:
            warnings.append(f"{student.id} has two rows in the template (lines {seen[student.id] + 1} and {r + 1}): both filled")
        seen.setdefault(student.id, r)
        matched[r] = student
    return chosen, matched, warnings


def fill(sheet: Sheet, student_rows: list[int], id_columns: dict[str, int], columns: dict[str, int], table: GradeTable,
         match: str, missing: str, label: Callable[[tuple[str, ...]], str],
         scale: Callable[[str, float], float] = lambda _, points: points,
         comments: dict[str, int] | None = None) -> Filled:
    """Write the gradebook's scores into the template's rows; rows of no gradebook student get ``missing``."""
    chosen, matched, warnings = match_students(student_rows, sheet, id_columns, table, match)
    rows = [list(row) for row in sheet.rows]
    no_submission = []
    for r in student_rows:
        student = matched.get(r)
        for assignment, col in columns.items():
            points = student.scores.get(assignment) if student else None
            if points is None:
                if student:
                    no_submission.append((student.id, assignment))
                if missing == "zero" and rows[r][col].strip().upper() not in KEPT:
                    rows[r][col] = "0"
                continue  # "empty": the LMS keeps what it has (a blank cell, unless graded there)
            rows[r][col] = number(scale(assignment, points))
            if comments and assignment in comments and student:
                rows[r][comments[assignment]] = table.comment(student.id, assignment)
    header = sheet.rows[0]
    return Filled(
        replace(sheet, rows=tuple(tuple(row) for row in rows)), header[id_columns[chosen]],
        {a: header[c] for a, c in columns.items()},
        written=tuple(sorted({s.id for s in matched.values()})),
        only_in_gradebook=tuple(s.id for s in table.students if s.id not in {m.id for m in matched.values()}),
        only_in_lms=tuple(label(sheet.rows[r]) for r in student_rows if r not in matched),
        no_submission=tuple(no_submission), warnings=tuple(warnings))


def canvas_label(row: tuple[str, ...], header: tuple[str, ...]) -> str:
    """How people recognise a Canvas row: the name and the Canvas id."""
    cells = dict(zip(header, row))
    name = cells.get("Student", "").strip() or ", ".join(cells[k].strip() for k in CANVAS_NAMES[1:] if cells.get(k, "").strip())
    return f"{name or '(no name)'} (ID {cells.get('ID', '').strip() or '-'})"


def fill_canvas(sheet: Sheet, table: GradeTable, match: str, missing: str, explicit: dict[str, str],
                rescale: bool) -> Filled:
    """The instructor's Canvas gradebook export with the course's scores in the matching assignment columns."""
    header = sheet.rows[0]
    id_columns = {key: header.index(name) for key, name in CANVAS_IDS.items() if name in header}
    if not id_columns:
        raise LmsError("the template is not a Canvas gradebook export: its first row has no ID, SIS User ID or "
                       "SIS Login ID column (Grades > Export > Export Entire Gradebook)")
    points_row = next((r for r, row in enumerate(sheet.rows) if row[0].strip() == POINTS_POSSIBLE), None)
    possible = sheet.rows[points_row] if points_row is not None else ("",) * len(header)
    candidates = [i for i, name in enumerate(header) if name not in CANVAS_FIXED and not CANVAS_READ_ONLY.search(name)
                  and possible[i].strip().casefold() != "(read only)"]
    columns = map_columns(header, candidates, table.assignments, explicit,
                          lambda name: CANVAS_ASSIGNMENT_ID.sub("", name), lambda name: bool(CANVAS_ASSIGNMENT_ID.search(name)))
    names = [header.index(n) for n in (*CANVAS_NAMES, *CANVAS_IDS.values()) if n in header]
    student_rows = [r for r in range(1, len(sheet.rows)) if r != points_row and any(sheet.rows[r][i].strip() for i in names)]
    lms_points = {a: _float(possible[c]) for a, c in columns.items()}
    warnings = []
    for assignment, points in lms_points.items():
        course_max = table.max_scores[assignment]
        if points is not None and abs(points - course_max) > 1e-9:
            warnings.append(f"{header[columns[assignment]]} is worth {points:g} points in Canvas, {assignment} "
                            f"{course_max:g} here: " + (f"scores rescaled to {points:g}" if rescale else
                                                        "scores written as they are (--rescale converts them)"))
        if rescale and not points:
            raise LmsError(f"--rescale: the template gives no Points Possible for {header[columns[assignment]]}")

    def scale(assignment: str, value: float) -> float:
        return value * lms_points[assignment] / table.max_scores[assignment] if rescale and table.max_scores[assignment] else value

    filled = fill(sheet, student_rows, id_columns, columns, table, match, missing,
                  lambda row: canvas_label(row, header), scale)
    return replace(filled, warnings=filled.warnings + tuple(warnings))


def _float(text: str) -> float | None:
    try:
        return float(text.replace(",", ".")) if text.strip() else None
    except ValueError:
        return None


def canvas_fresh(table: GradeTable, match: str, missing: str, explicit: dict[str, str]) -> Filled:
    """A Canvas import file without a template: the ID column chosen by ``match`` carries the course's student ids."""
    if match == "auto":
        match = "id" if all(s.id.isdigit() for s in table.students) else "sis-login-id"
    if match not in CANVAS_IDS:
        raise LmsError(f"--match {match} is not a Canvas identity column: use one of {', '.join(CANVAS_IDS)}")
    columns = {a: explicit.get(a, a) for a in table.assignments}
    header = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section", *columns.values())
    rows = [header, ("    " + POINTS_POSSIBLE, "", "", "", "", *(number(table.max_scores[a]) for a in columns))]
    no_submission = []
    for student in table.students:
        ids = {name: (student.id if key == match else "") for key, name in CANVAS_IDS.items()}
        scores = []
        for assignment in columns:
            points = student.scores.get(assignment)
            if points is None:
                no_submission.append((student.id, assignment))
            scores.append(number(points) if points is not None else ("0" if missing == "zero" else ""))
        rows.append((student.sortable_name(), ids["ID"], ids["SIS User ID"], ids["SIS Login ID"], "", *scores))
    return Filled(Sheet(tuple(rows)), CANVAS_IDS[match], columns, tuple(s.id for s in table.students),
                  no_submission=tuple(no_submission))


def moodle_label(row: tuple[str, ...], header: tuple[str, ...]) -> str:
    """How people recognise a Moodle row: the name and the first identity field present."""
    cells = dict(zip(header, row))
    name = " ".join(cells.get(k, "").strip() for k in ("First name", "Last name", "Surname") if cells.get(k, "").strip())
    ident = next((cells[h].strip() for h in MOODLE_IDS.values() if cells.get(h, "").strip()), "-")
    return f"{name or '(no name)'} ({ident})"


def fill_moodle(sheet: Sheet, table: GradeTable, match: str, missing: str, explicit: dict[str, str],
                comments: bool) -> Filled:
    """The instructor's Moodle grade export with the course's scores (and feedback, where it has the column)."""
    header = sheet.rows[0]
    id_columns = {key: header.index(name) for key, name in MOODLE_IDS.items() if name in header}
    if not id_columns:
        raise LmsError("the template is not a Moodle grade export: its first row has no Email address, Username or "
                       "ID number column (Grades > Export > Plain text file)")
    fixed = {"First name", "Last name", "Surname", "Institution", "Department", "Last downloaded from this course",
             *MOODLE_IDS.values()}
    candidates = [i for i, name in enumerate(header) if name not in fixed and not MOODLE_FEEDBACK.match(name)
                  and "total" not in name.casefold()]

    def clean(name: str) -> str:
        return MOODLE_ITEM.sub("", MOODLE_TYPE.sub("", name))

    columns = map_columns(header, candidates, table.assignments, explicit, clean,
                          lambda name: name.rstrip().endswith("(Real)"))
    feedback = {}
    if comments:
        for assignment, col in columns.items():
            wanted = normalised(clean(header[col]))
            hits = [i for i, name in enumerate(header) if MOODLE_FEEDBACK.match(name)
                    and normalised(clean(MOODLE_FEEDBACK.sub("", name))) == wanted]
            if not hits:
                raise LmsError(f"--comments: the template has no 'Feedback: {clean(header[col])}' column; "
                               "export the grades from Moodle with 'Include feedback in export' ticked")
            feedback[assignment] = hits[0]
    student_rows = [r for r in range(1, len(sheet.rows)) if any(sheet.rows[r][i].strip() for i in id_columns.values())]
    return fill(sheet, student_rows, id_columns, columns, table, match, missing,
                lambda row: moodle_label(row, header), comments=feedback)


def moodle_fresh(table: GradeTable, match: str, missing: str, explicit: dict[str, str], comments: bool) -> Filled:
    """A Moodle import file: names, one identity column, a grade column (and a feedback column) per assignment."""
    if match == "auto":
        match = "email" if all(s.email or "@" in s.id for s in table.students) else "username"
    if match not in MOODLE_IDS:
        raise LmsError(f"--match {match} is not a field Moodle's grade import maps users by: use one of {', '.join(MOODLE_IDS)}")
    columns = {a: explicit.get(a, a) for a in table.assignments}
    header = ["First name", "Last name", MOODLE_IDS[match]]
    for title in columns.values():
        header += [title] + ([f"Feedback: {title}"] if comments else [])
    rows, written, skipped, no_submission = [tuple(header)], [], [], []
    for student in table.students:
        ident = student.identity(match)
        if not ident:
            skipped.append(student.id)  # Moodle aborts an import that names an unknown user
            continue
        row = [student.first_name, student.last_name, ident]
        for assignment in columns:
            points = student.scores.get(assignment)
            if points is None:
                no_submission.append((student.id, assignment))
            row.append(number(points) if points is not None else ("0" if missing == "zero" else ""))
            if comments:
                row.append(table.comment(student.id, assignment) if points is not None else "")
        rows.append(tuple(row))
        written.append(student.id)
    warnings = (f"no {MOODLE_IDS[match].lower()} known for {', '.join(skipped)}: left out (record it in the "
                "gradebook, or use --match username)",) if skipped else ()
    return Filled(Sheet(tuple(rows)), MOODLE_IDS[match], columns, tuple(written), only_in_gradebook=tuple(skipped),
                  no_submission=tuple(no_submission), warnings=warnings)


@dataclass(frozen=True)
class LmsOptions:
    """How ``course export`` lines up the gradebook with an LMS."""

    match: str = "auto"
    missing: str = "empty"
    columns: dict[str, str] = field(default_factory=dict)  # course assignment -> LMS column title
    rescale: bool = False
    comments: bool = False
