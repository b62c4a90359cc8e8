"""Find the submissions in what the instructor downloaded: a folder or a zip, in one of two shapes.

1. nbgrader's layout: ``<student>/<assignment>/<notebook>.ipynb`` (any path of exactly
   three parts is read this way);
2. LMS downloads: notebooks anywhere below, whose path carries the student id. A pattern
   (a Python regular expression searched in the path relative to SUBMISSIONS, ``/``
   separated) finds it in the named group ``student``. Presets:

   ``simple`` (default)  ``<student>_<anything>.ipynb``, e.g. ``s1234_01-pca-to-autoencoders.ipynb``
   ``canvas``            ``<name>_[LATE_]<student id>_<submission id>_<file>.ipynb``
   ``moodle``            ``<Full Name>_<student id>_assignsubmission_file_/<file>.ipynb``

   Pass another preset name or a regex with ``--pattern``, or set ``submission_pattern``
   in ``[tool.course]``. The assignment is ``--assignment`` when given, else the one
   assignment whose id appears in the path.

Only notebooks are taken (a ``helpers.py`` next to a submission would shadow the real
helpers in the grading kernel); other files are listed as ignored. Anything that cannot
be attributed to a student and an assignment comes back as a :class:`Rejected` with the
reason. Nothing here writes anywhere: files are read, never moved or changed.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

PATTERNS = {
    "simple": r"(?:^|/)(?P<student>[A-Za-z0-9.@-]+)_[^/]*\.ipynb$",
    "canvas": r"(?:^|/)[^/_]+_(?:LATE_)?(?P<student>\d+)_\d+_[^/]*\.ipynb$",
    "moodle": r"(?:^|/)[^/]+_(?P<student>\d+)_assignsubmission_file_/[^/]*\.ipynb$",
}
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
MAX_NOTEBOOK_BYTES = 100 * 1024**2  # a notebook with every figure is a few MB; a 100 MB one is no answer


@dataclass(frozen=True)
class Found:
    """A notebook file in the download: where, its bytes, and when it was last modified."""

    path: str  # relative, '/' separated
    data: bytes
    modified: float


@dataclass(frozen=True)
class Submission:
    """One student's notebook for one assignment, ready to grade."""

    student: str
    assignment: str
    notebook: str  # the file name it is graded as
    data: bytes
    origin: str  # where it came from, for messages
    note: str = ""  # a problem worth the instructor's attention that did not stop grading


@dataclass(frozen=True)
class Rejected:
    """A file that could not be graded, and why."""

    origin: str
    reason: str
    student: str = ""
    assignment: str = ""


def read_folder(folder: Path) -> tuple[list[Found], list[str]]:
    """The notebooks below ``folder`` and the other files (ignored); empty folders end in '/'."""
    found, ignored = [], []
    ignored += [p.relative_to(folder).as_posix() + "/" for p in sorted(folder.glob("*/*"))
                if p.is_dir() and not any(p.iterdir())]
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in PurePosixPath(relative).parts):
            continue  # .ipynb_checkpoints, .DS_Store
        if path.suffix != ".ipynb":
            ignored.append(relative)
        elif path.stat().st_size > MAX_NOTEBOOK_BYTES:
            found.append(Found(relative, b"", path.stat().st_mtime))
        else:
            found.append(Found(relative, path.read_bytes(), path.stat().st_mtime))
    return found, ignored


def read_zip(archive: Path) -> tuple[list[Found], list[str]]:
    """The notebooks inside a zip (read in memory, never extracted) and the other members."""
    found, ignored = [], []
    with zipfile.ZipFile(archive) as zipped:
        for member in sorted(zipped.infolist(), key=lambda m: m.filename):
            parts = PurePosixPath(member.filename).parts
            if member.is_dir() or any(p.startswith(".") or p == "__MACOSX" or p == ".." for p in parts):
                continue
            if not member.filename.endswith(".ipynb"):
                ignored.append(member.filename)
                continue
            data = zipped.read(member) if member.file_size <= MAX_NOTEBOOK_BYTES else b""
            found.append(Found(member.filename, data, datetime(*member.date_time).timestamp()))
    return found, ignored


def resolve_pattern(pattern: str | None) -> re.Pattern:
    """A preset name or a regular expression with a ``student`` group."""
    compiled = re.compile(PATTERNS.get(pattern or "simple", pattern or ""))
    if "student" not in compiled.groupindex:
        raise ValueError(f"the submission pattern {pattern!r} has no (?P<student>...) group")
    return compiled


def assignment_in(path: str, assignments: list[str]) -> str | None:
    """The one known assignment whose id appears in ``path`` (None for none or several)."""
    hits = {a for a in assignments if a in path}
    hits = {a for a in hits if not any(a != b and a in b for b in hits)}  # prefer the longest id
    return hits.pop() if len(hits) == 1 else None


def attribute(item: Found, assignments: dict[str, list[str]], pattern: re.Pattern,
              fixed_assignment: str | None) -> Submission | Rejected | None:
    """Who submitted ``item`` and for which assignment, why that cannot be told, or None to skip it."""
    parts = PurePosixPath(item.path).parts
    if len(parts) == 3:
        student, assignment, name = parts
    else:
        match = pattern.search(item.path)
        if match is None:
            return Rejected(item.path, f"the file name does not match the submission pattern {pattern.pattern!r}")
        student, name = match.group("student"), PurePosixPath(item.path).name
        assignment = fixed_assignment or assignment_in(item.path, sorted(assignments)) or ""
    if not STUDENT_ID.match(student):
        return Rejected(item.path, f"{student!r} is not usable as a student id", student=student)
    if fixed_assignment and assignment != fixed_assignment:
        return None  # another assignment's folder: not asked for
    if assignment not in assignments:
        known = ", ".join(sorted(assignments))
        return Rejected(item.path, f"unknown assignment {assignment or '(none in the name)'!r}; known: {known}",
                        student, assignment)
    return name_submission(item, student, assignment, name, assignments[assignment])


def name_submission(item: Found, student: str, assignment: str, name: str, notebooks: list[str]) -> Submission | Rejected:
    """Match the file to one of the assignment's notebooks (by name, or the only one there is)."""
    if name in notebooks:
        return Submission(student, assignment, name, item.data, item.path)
    stems = [n for n in notebooks if Path(n).stem in name]
    chosen = stems[0] if len(stems) == 1 else notebooks[0] if len(notebooks) == 1 else None
    if chosen is None:
        return Rejected(item.path, f"cannot tell which notebook of {assignment} this is", student, assignment)
    in_layout = len(PurePosixPath(item.path).parts) == 3
    note = f"file named {name}, graded as {chosen}" if in_layout else ""
    return Submission(student, assignment, chosen, item.data, item.path, note)


def newest_only(submissions: list[Submission], found: dict[str, Found]) -> list[Submission]:
    """One submission per student, assignment and notebook: the newest file, with a note."""
    groups: dict[tuple, list[Submission]] = {}
    for submission in submissions:
        groups.setdefault((submission.student, submission.assignment, submission.notebook), []).append(submission)
    chosen = []
    for group in groups.values():
        group.sort(key=lambda s: (found[s.origin].modified, s.origin))
        newest = group[-1]
        if len(group) > 1:
            others = ", ".join(s.origin for s in group[:-1])
            note = "; ".join(filter(None, [newest.note, f"several files: graded the newest, {newest.origin} (not {others})"]))
            newest = Submission(newest.student, newest.assignment, newest.notebook, newest.data, newest.origin, note)
        chosen.append(newest)
    return sorted(chosen, key=lambda s: (s.assignment, s.student))


def missing_notebooks(found: list[Found], ignored: list[str]) -> list[Rejected]:
    """Student folders in nbgrader's layout (``<student>/<assignment>/``) without any notebook."""
    with_notebook = {PurePosixPath(item.path).parts[:2] for item in found}
    layout = [p for p in ignored if len(PurePosixPath(p).parts) == (2 if p.endswith("/") else 3)]
    folders = {PurePosixPath(path).parts[:2] for path in layout}
    return [
        Rejected("/".join(folder) + "/", "missing notebook: the folder holds no .ipynb file", *folder)
        for folder in sorted(folders - with_notebook)
    ]


def collect(source: Path, assignments: dict[str, list[str]], pattern: str | None = None,
            fixed_assignment: str | None = None) -> tuple[list[Submission], list[Rejected], list[str]]:
    """Submissions, rejected files and ignored files in a folder or zip.

    ``assignments`` maps each known assignment to its notebook file names.
    """
    found, ignored = read_zip(source) if zipfile.is_zipfile(source) and source.is_file() else read_folder(source)
    compiled = resolve_pattern(pattern)
    submissions, rejected = [], []
    for item in found:
        outcome = attribute(item, assignments, compiled, fixed_assignment)
        if outcome is not None:
            (submissions if isinstance(outcome, Submission) else rejected).append(outcome)
    rejected += [r for r in missing_notebooks(found, ignored) if fixed_assignment in (None, r.assignment)]
    by_path = {item.path: item for item in found}
    return newest_only(submissions, by_path), rejected, [path for path in ignored if not path.endswith("/")]
