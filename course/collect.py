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
helpers in the grading kernel); other files are listed as ignored. Zips are read member by
member, in memory (zips inside the download too, one level down). Anything that cannot be
attributed to a student and an assignment, or read (a corrupt, encrypted or oversized
member, a member whose path leaves the archive, a file that is no zip), comes back as a
:class:`Rejected` with the reason, so that no file disappears without a line. Nothing here
writes anywhere: files are read, never moved or changed.
"""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

PATTERNS = {
    "simple": r"(?:^|/)(?P<student>[\w.@+-]+)_[^/]*\.ipynb$",
    "canvas": r"(?:^|/)[^/_]+_(?:LATE_)?(?P<student>\d+)_\d+_[^/]*\.ipynb$",
    "moodle": r"(?:^|/)[^/]+_(?P<student>\d+)_assignsubmission_file_/[^/]*\.ipynb$",
}
MIB = 1024**2
MAX_NOTEBOOK_BYTES = 100 * MIB  # a notebook with every figure is a few MB; a 100 MB one is no answer
MAX_ID_BYTES = 250  # a student id names folders (submitted/<student>/...): 255 bytes per name, less room for suffixes
MAX_ZIP_DEPTH = 2  # a zip inside the download (a student's own archive) is read; deeper ones are not
UNREADABLE_MEMBER = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError, ValueError)


@dataclass(frozen=True)
class Found:
    """A notebook file in the download: where, its bytes, when it was last modified, and why it cannot be read."""

    path: str  # relative, '/' separated
    data: bytes
    modified: float
    problem: str = ""  # not empty: the file is there but its content cannot be used


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


@dataclass
class Listing:
    """What a download holds: notebooks, files that are not notebooks, and what could not be read."""

    found: list[Found] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def add(self, other: "Listing") -> None:
        self.found += other.found
        self.ignored += other.ignored
        self.rejected += other.rejected


def student_problem(student: str) -> str | None:
    """Why ``student`` cannot be a student id (None when it can).

    Any characters a folder name can hold are fine (e-mail addresses, spaces, accents): the
    id names folders of the course (submitted/<student>/...) and a gradebook row, never a
    path of the grading machinery.
    """
    from nbgrader.api import Student

    longest = Student.__table__.c.id.type.length  # nbgrader's own column: PostgreSQL enforces it
    if not student.strip():
        return "empty"
    if any(c in student for c in "/\\\0") or any(ord(c) < 32 for c in student):
        return "it contains a slash or a control character"
    if student.startswith("."):
        return "it starts with a dot (a hidden folder)"
    if len(student) > longest:
        return f"longer than the gradebook's {longest} characters ({len(student)})"
    if len(student.encode()) > MAX_ID_BYTES:
        return f"too long for a folder name ({len(student.encode())} bytes, at most {MAX_ID_BYTES})"
    return None


def read_folder(folder: Path) -> Listing:
    """The notebooks below ``folder``, zips inside it, and the other files (ignored); empty folders end in '/'."""
    listing = Listing()
    listing.ignored += [p.relative_to(folder).as_posix() + "/" for p in sorted(folder.glob("*/*"))
                        if p.is_dir() and not any(p.iterdir())]
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in PurePosixPath(relative).parts):
            continue  # .ipynb_checkpoints, .DS_Store
        if path.suffix.lower() == ".zip":
            listing.add(read_archive(path.read_bytes(), f"{relative}/", 1))
        elif path.suffix != ".ipynb":
            listing.ignored.append(relative)
        elif path.stat().st_size > MAX_NOTEBOOK_BYTES:
            listing.found.append(Found(relative, b"", path.stat().st_mtime, too_large(path.stat().st_size)))
        else:
            listing.found.append(Found(relative, path.read_bytes(), path.stat().st_mtime))
    return listing


def too_large(size: int) -> str:
    return f"larger than the {MAX_NOTEBOOK_BYTES // MIB} MiB limit for a notebook ({size / MIB:.0f} MiB)"


def unsafe_member(name: str) -> bool:
    """A member path that would leave the archive's folder: absolute, a drive, or with '..'."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) is not None or ".." in parts


def read_member(zipped: zipfile.ZipFile, member: zipfile.ZipInfo) -> tuple[bytes, str]:
    """A member's bytes, or b"" and why it cannot be read; never more than the size limit."""
    if member.flag_bits & 0x1:
        return b"", "encrypted (password-protected) in the archive: download the submissions again without a password"
    if member.file_size > MAX_NOTEBOOK_BYTES:
        return b"", too_large(member.file_size)
    try:
        with zipped.open(member) as handle:
            data = handle.read(MAX_NOTEBOOK_BYTES + 1)  # the size in the header may lie
    except UNREADABLE_MEMBER as error:
        return b"", f"corrupt in the archive ({type(error).__name__}: {str(error)[:120]})"
    return (b"", too_large(len(data))) if len(data) > MAX_NOTEBOOK_BYTES else (data, "")


def read_archive(data: bytes, prefix: str = "", depth: int = 0) -> Listing:
    """The notebooks inside a zip (read in memory, never extracted), each member on its own.

    A member that cannot be read (corrupt, encrypted, too large), a member whose path leaves
    the archive and a file that is not a zip at all each get a line of their own; the rest
    of the archive is read as usual.
    """
    listing = Listing()
    try:
        zipped = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        origin = prefix.rstrip("/") or "the download"
        listing.rejected.append(Rejected(origin, f"not a readable zip file ({str(error)[:120]})"))
        return listing
    with zipped:
        for member in sorted(zipped.infolist(), key=lambda m: m.filename):
            name = member.filename
            if unsafe_member(name):
                listing.rejected.append(Rejected(prefix + name, "skipped: its path leaves the archive (absolute or '..')"))
                continue
            parts = PurePosixPath(name).parts
            if member.is_dir() or any(p.startswith(".") or p == "__MACOSX" for p in parts):
                continue
            if name.lower().endswith(".zip") and depth < MAX_ZIP_DEPTH:
                content, problem = read_member(zipped, member)
                if problem:
                    listing.rejected.append(Rejected(prefix + name, problem))
                else:
                    listing.add(read_archive(content, f"{prefix}{name}/", depth + 1))
                continue
            if not name.endswith(".ipynb"):
                listing.ignored.append(prefix + name)
                continue
            content, problem = read_member(zipped, member)
            listing.found.append(Found(prefix + name, content, datetime(*member.date_time).timestamp(), problem))
    return listing


def read_source(source: Path) -> Listing:
    """Everything in SUBMISSIONS: a folder, a zip, or a single notebook."""
    if source.is_dir():
        return read_folder(source)
    data = source.read_bytes()
    if source.suffix == ".ipynb":
        return Listing(found=[Found(source.name, data, source.stat().st_mtime)])
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return Listing(rejected=[Rejected(source.name, "not a zip file, a notebook or a folder: nothing in it was graded")])
    return read_archive(data)


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
    problem = student_problem(student)
    if problem:
        return Rejected(item.path, f"{student!r} is not usable as a student id: {problem}")
    if fixed_assignment and assignment != fixed_assignment:
        return None  # another assignment's folder: not asked for
    if assignment not in assignments:
        known = ", ".join(sorted(assignments))
        return Rejected(item.path, f"unknown assignment {assignment or '(none in the name)'!r}; known: {known}",
                        student, assignment)
    if item.problem:
        return Rejected(item.path, f"not graded: {item.problem}", student, assignment)
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
    """Submissions, rejected files and ignored files in a folder, a zip or one notebook.

    ``assignments`` maps each known assignment to its notebook file names.
    """
    listing = read_source(source)
    found, ignored = listing.found, listing.ignored
    compiled = resolve_pattern(pattern)
    submissions, rejected = [], list(listing.rejected)
    for item in found:
        outcome = attribute(item, assignments, compiled, fixed_assignment)
        if outcome is not None:
            (submissions if isinstance(outcome, Submission) else rejected).append(outcome)
    rejected += [r for r in missing_notebooks(found, ignored) if fixed_assignment in (None, r.assignment)]
    by_path = {item.path: item for item in found}
    return newest_only(submissions, by_path), rejected, [path for path in ignored if not path.endswith("/")]
