"""What crosses a process or machine boundary while grading: plain, frozen records with JSON forms.

``course grade`` (the coordinator) turns each submission into a :class:`GradeTask` and
each assignment into one :class:`AssignmentBundle` (what every submission of it is graded
against); a worker process, local or on a Dask worker on another machine, grades the task
against the bundle and sends back a :class:`GradeResult`, output files included. None of
them holds a path of the coordinator's machine, so a worker needs only its own scratch
folder. Bytes travel as base64 in JSON.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from course.settings import GradeSettings


def _encode(value):
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(item) for item in value]
    return value


def _decode(value):
    if isinstance(value, dict) and set(value) == {"base64"}:
        return base64.b64decode(value["base64"])
    if isinstance(value, dict):
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def record_json(record) -> str:
    """A frozen record as JSON (bytes as base64, nested records as objects)."""
    return json.dumps(_encode(asdict(record)), sort_keys=True)


def record_fields(cls, text: str) -> dict:
    """The decoded fields of ``cls`` in ``text`` (tuples where the record declares them)."""
    raw = _decode(json.loads(text))
    tuples = {f.name for f in fields(cls) if str(f.type).startswith("tuple")}
    return {key: tuple(value) if key in tuples and value is not None else value for key, value in raw.items()}


def digest(*parts: bytes | str) -> str:
    """A short content hash (sha256, 16 hex digits) of ``parts`` in order."""
    hashed = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        hashed.update(len(data).to_bytes(8, "big") + data)
    return hashed.hexdigest()[:16]


@dataclass(frozen=True)
class AssignmentBundle:
    """Everything a worker needs to grade any submission of one assignment."""

    assignment: str
    source_files: dict[str, bytes]  # the solved assignment folder: relative path -> bytes
    release: dict[str, bytes]  # notebook file name -> the student version (with the Colab cells)
    template_db: bytes  # a gradebook that knows the assignment's cells (nbgrader generate_assignment)
    seed: int = 0  # this run's seed for the hidden checks' inputs (course.checks)
    references: str = ""  # the checks' REFERENCES computed with that seed, as JSON

    @property
    def key(self) -> str:
        """What the grades depend on: the solved notebooks and the release (not the gradebook's ids, nor the seed)."""
        parts = [f"{k}\0".encode() + v for k, v in sorted({**self.source_files, **self.release}.items())]
        return digest(self.assignment, *parts)

    def to_json(self) -> str:
        return record_json(self)

    @classmethod
    def from_json(cls, text: str) -> "AssignmentBundle":
        return cls(**record_fields(cls, text))


@dataclass(frozen=True)
class GradeTask:
    """One submission to grade: who, which notebook, its bytes, and how."""

    key: str  # short and unique in the run; names the scratch folder (never the student id)
    student: str
    assignment: str
    notebook: str  # the file name it is graded as
    submission: bytes
    settings: GradeSettings
    bundle: str  # AssignmentBundle.key of the assignment

    def not_graded(self, reason: str, log: str = "") -> "GradeResult":
        """The result of a task that could not be graded, with why (and the log that says more)."""
        return GradeResult(self.student, self.assignment, Path(self.notebook).stem,
                           attention=(f"not graded: {reason}",), log=log)

    @property
    def fingerprint(self) -> str:
        """The submitted bytes and what they are graded against: equal means the same grades."""
        return digest(self.submission, self.bundle, self.settings.to_json())

    def to_json(self) -> str:
        return record_json(self)

    @classmethod
    def from_json(cls, text: str) -> "GradeTask":
        values = record_fields(cls, text)
        return cls(**{**values, "settings": GradeSettings(**values["settings"])})


@dataclass(frozen=True)
class GradeResult:
    """What grading one notebook produced. ``points`` is None when nbgrader could not score it."""

    student: str
    assignment: str
    notebook: str  # the notebook's name without .ipynb
    points: dict[str, float] | None = None  # grade id -> points scored
    max_points: dict[str, float] = field(default_factory=dict)
    attention: tuple[str, ...] = ()  # reasons the instructor should look
    autograded: bytes | None = None  # the executed notebook
    feedback: bytes | None = None  # the feedback HTML
    log: str = ""  # the worker's log, nbgrader's whole output included, when something went wrong
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum((self.points or {}).values())

    @property
    def max_score(self) -> float:
        return sum(self.max_points.values())

    def to_json(self) -> str:
        return record_json(self)

    @classmethod
    def from_json(cls, text: str) -> "GradeResult":
        return cls(**record_fields(cls, text))


@dataclass(frozen=True)
class WorkerSpec:
    """What one grading process is given: the task, where its bundle and scratch are, where to answer."""

    task: GradeTask
    bundle: str  # folder of the unpacked AssignmentBundle (see course.runner.unpack)
    scratch: str  # this task's own scratch folder
    result: str  # where the worker writes its GradeResult as JSON
    hidden: tuple[str, ...] = ()  # folders the kernel must never see, even if on sys.path

    def to_json(self) -> str:
        return json.dumps({"task": json.loads(self.task.to_json()), "bundle": self.bundle, "scratch": self.scratch,
                           "result": self.result, "hidden": list(self.hidden)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "WorkerSpec":
        raw = json.loads(text)
        return cls(GradeTask.from_json(json.dumps(raw["task"])), raw["bundle"], raw["scratch"], raw["result"],
                   tuple(raw["hidden"]))
