"""Per-assignment zips of the students' feedback, for uploading to an LMS in one go.

``course grade`` writes each student's feedback to ``feedback/<student>/<assignment>/``.
A bundle zips one assignment's feedback of every student, one folder per student:

- ``plain``: ``<student id>/<file>``, for any LMS or for mailing;
- ``moodle``: ``<Full name>_<participant id>_assignfeedback_file_/<file>``, the layout of
  Moodle's "Upload multiple feedback files in a zip" (it reads the number after the first
  ``_`` as the participant id of the assignment's submission download, which is the
  student id ``course grade --pattern moodle`` takes from those downloads, and keeps the
  file's own name). A student id that is not such a number cannot be bundled this way and
  is listed.

Canvas has no bulk upload of feedback files that keeps their names: its "Re-upload
submissions" attaches each file under the name of the student's submitted file, so an
HTML report would arrive named ``<assignment>.ipynb``. For Canvas, send the plain
bundle's files through SpeedGrader or the API.

Entries are sorted and time-stamped 1980-01-01, so the same feedback gives the same zip.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from course.grades import GradeTable, StudentGrades

LAYOUTS = ("plain", "moodle")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


@dataclass(frozen=True)
class Bundle:
    """One assignment's feedback zip and who is (not) in it."""

    assignment: str
    path: Path
    students: tuple[str, ...]  # students whose feedback is in the zip
    without_feedback: tuple[str, ...]  # graded, but no feedback file was written (see reports/attention.csv)
    not_bundled: tuple[str, ...]  # feedback that this layout cannot name (with the reason)


def folder_name(student: StudentGrades, layout: str) -> str | None:
    """The folder a student's files go to in the zip; None when the layout cannot name this student."""
    if layout == "plain":
        return student.id
    if not student.id.isdigit():
        return None
    name = " ".join(n for n in (student.first_name, student.last_name) if n) or f"Participant {student.id}"
    name = name.replace("_", " ").replace("/", " ")  # Moodle splits the folder name on "_"
    return f"{name}_{student.id}_assignfeedback_file_"


def feedback_bundle(feedback_root: Path, table: GradeTable, assignment: str, layout: str, destination: Path) -> Bundle:
    """Zip ``feedback_root/<student>/<assignment>/*`` of every student with a submission of ``assignment``."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown feedback layout {layout!r}: use one of {', '.join(LAYOUTS)}")
    entries, students, without, not_bundled = [], [], [], []
    for student in table.students:
        if assignment not in student.scores:
            continue
        files = sorted(p for p in (feedback_root / student.id / assignment).glob("*") if p.is_file())
        if not files:
            without.append(student.id)
            continue
        folder = folder_name(student, layout)
        if folder is None:
            not_bundled.append(f"{student.id} (not a Moodle participant id: a number from the submission download)")
            continue
        entries += [(f"{folder}/{path.name}", path) for path in files]
        students.append(student.id)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return Bundle(assignment, destination, tuple(students), tuple(without), tuple(not_bundled))
