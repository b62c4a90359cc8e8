"""The one place that drives nbgrader: a course folder's configuration, generate_assignment,
the tools nbgrader runs by name, and what its logs say went wrong.

``course release`` (student versions), ``course grade`` (each submission's template
gradebook, and the course gradebook's record of an assignment) and the worker processes
all call nbgrader through these functions.
"""
from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path

CHECKS_FILE = "checks.py"  # an assignment's hidden checks (course.checks), next to its solved notebook
# nbgrader's own closing sentence after a failure: it names no cause.
WRAPPERS = ("Please see the the above traceback", "Please see the above traceback")
EXCEPTION_LINE = re.compile(r"^(?:\[ERROR\]\s*)?([\w.]+(?:Error|Exception|Exit|Interrupt))\b(?::\s*(.*))?$")


class NbgraderFailed(RuntimeError):
    """An nbgrader step failed; ``cause`` is the root cause, ``log`` nbgrader's whole output."""

    def __init__(self, step: str, log: str):
        self.cause, self.log = root_cause(log), log
        super().__init__(f"nbgrader {step} failed ({self.cause})")


def ensure_tools_on_path() -> None:
    """nbgrader runs ``alembic`` by name: put this environment's scripts first on PATH.

    It also asks the ``alembic`` command for its head revision every time it creates a
    gradebook (a subprocess that imports nbgrader again: 2-3 s, several times per ``course
    grade``); the answer is read once per process from alembic's Python API instead.
    """
    import nbgrader.api

    scripts = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != scripts:
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
    nbgrader.api.get_alembic_version = alembic_head


@functools.cache
def alembic_head() -> str:
    """The head revision of nbgrader's gradebook migrations (what ``alembic heads`` prints first)."""
    import nbgrader
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(Path(nbgrader.__file__).parent / "alembic")).get_current_head()


def api_log(outcome: dict) -> str:
    """The log and traceback of an nbgrader API call (either may be missing)."""
    return outcome.get("log", "") + outcome.get("error", "")


def root_cause(log: str) -> str:
    """The exception that started a failure, not nbgrader's closing wrapper.

    A chained traceback prints the original exception first ("During handling of the above
    exception, another exception occurred" follows it), so the first exception line that
    is not one of nbgrader's wrappers is the cause: for a kernel whose socket path is too
    long, ``zmq.error.ZMQError: File name too long``, not ``NbGraderException: Please see ...``.
    """
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    exceptions = [line for line in lines if EXCEPTION_LINE.match(line)]
    causes = [line for line in exceptions if not any(wrapper in line for wrapper in WRAPPERS)]
    errors = [line for line in lines if line.startswith("[ERROR]")]
    chosen = (causes[:1] or exceptions[-1:] or errors[-1:] or lines[-1:] or ["no log"])[0]
    return chosen.removeprefix("[ERROR]").strip()[:300]


def course_config(root: Path, source: str = "source", release: str = "release", db_url: str | None = None):
    """nbgrader's configuration of the course folder ``root`` (its own gradebook unless ``db_url``)."""
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.source_directory = source
    config.CourseDirectory.release_directory = release
    config.CourseDirectory.db_url = db_url or f"sqlite:///{root / 'gradebook.db'}"
    # the hidden checks stay with the solved notebook: never released, never beside a kernel
    config.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", CHECKS_FILE]
    return config


def generate_assignment(config, assignment: str) -> None:
    """nbgrader generate_assignment (student version and gradebook cells); raises NbgraderFailed."""
    from nbgrader.apps import NbGraderAPI

    ensure_tools_on_path()
    result = NbGraderAPI(config=config).generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise NbgraderFailed(f"generate_assignment of {assignment}", api_log(result))
