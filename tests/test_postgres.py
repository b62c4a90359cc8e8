"""The gradebook on a real PostgreSQL server that these tests start themselves (tests/fixtures/postgres.py).

``course grade --db postgresql://...`` end to end on the fixture assignments, ``course
report`` and nbgrader's own tools (the formgrader's API, ``nbgrader export``) reading the
same database, two graders grading different students into it at once, and the
preflight's one-line answers for a wrong password, a missing database and missing rights.
"""
from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from course.database import database_problem, normalized_url
from course.notebooks import fill_solution_cells, notebook_bytes, read_notebook, solution_sources
from course.sandbox import bwrap_path
from fixtures.course_support import FIXTURE_SOURCE, REPO, cell_points, make_course, run_course
from fixtures.postgres import postgres_server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.postgres
F1, F2 = "f1-basics", "f2-tensors"
# Our own fixture answers: trusted, so they may be graded without bubblewrap where it is missing.
# Generous cell limits: these notebooks take a second each, but a shared, loaded machine can be slow.
GRADE_OPTIONS = ("--timeout", "120", "--notebook-timeout", "300", "--memory", "1.5",
                 *(() if bwrap_path() else ("--no-sandbox",)))


def answers(assignment: str) -> dict[str, str]:
    return solution_sources(read_notebook(FIXTURE_SOURCE / assignment / f"{assignment}.ipynb"))


def filled(root: Path, assignment: str, keep: tuple[str, ...] | None = None) -> bytes:
    """The release notebook with every answer (or only those in ``keep``) filled in."""
    chosen = {k: v for k, v in answers(assignment).items() if keep is None or k in keep}
    return notebook_bytes(fill_solution_cells(read_notebook(root / "release" / assignment / f"{assignment}.ipynb"),
                                              chosen))


def write_class(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def grader_course(released: Path, root: Path) -> Path:
    """Another grader's copy of the released course (no gradebook, nothing graded yet)."""
    root.mkdir(parents=True)
    for name in ("pyproject.toml", "source_notebooks", "release"):
        (shutil.copytree if (released / name).is_dir() else shutil.copy)(released / name, root / name)
    return root


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    root = make_course(tmp_path_factory.mktemp("pg") / "course")
    assert run_course(root, "release").returncode == 0
    return root


def submissions_of(gradebook_url: str, root: Path) -> dict[tuple[str, str], float]:
    """(assignment, student) -> total, as nbgrader's formgrader reads them (NbGraderAPI on the same database)."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = normalized_url(gradebook_url)
    api = NbGraderAPI(config=config)
    return {(a, s["student"]): s["score"] for a in (F1, F2) for s in api.get_submissions(a)}


# Two graders, each with their own copy of the course, grade different students into one database.
CLASSES = {
    "first": {f"alice/{F1}": None, f"alice/{F2}": None, f"bob/{F1}": ("double",)},
    "second": {f"carol/{F1}": None, f"carol/{F2}": ("standardize",)},
}
EXPECTED = {(F1, "alice"): 7, (F2, "alice"): 3, (F1, "bob"): 2, (F1, "carol"): 7, (F2, "carol"): 2}


@dataclass
class Shared:
    url: str
    courses: dict[str, Path]
    outputs: dict[str, str]
    statuses: dict[str, int]


@pytest.fixture(scope="module")
def shared(released, postgres_server, tmp_path_factory) -> Shared:
    """Both graders' `course grade --db postgresql://...` runs, started at the same moment."""
    url = postgres_server.create_database("shared")
    folder = tmp_path_factory.mktemp("graders")
    env = {**os.environ, "COURSE_DATA": "mnist5k", "PYTHONWARNINGS": "ignore"}
    courses, classes = {}, {}
    for grader, files in CLASSES.items():
        courses[grader] = grader_course(released, folder / grader)
        classes[grader] = write_class(folder / f"{grader}-class", {
            f"{name}/{name.split('/')[1]}.ipynb": filled(released, name.split("/")[1], keep) for name, keep in files.items()})
    runs = {}
    try:
        for grader, course in courses.items():
            runs[grader] = subprocess.Popen(
                [sys.executable, "-m", "course", "--root", str(course), "grade", str(classes[grader]), "--db", url,
                 *GRADE_OPTIONS], cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                start_new_session=True)
        outputs = {grader: process.communicate(timeout=600)[0] for grader, process in runs.items()}
    finally:
        for process in runs.values():
            if process.poll() is None:  # only after a failure: the run and what it started, by its group
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    return Shared(url, courses, outputs, {grader: process.returncode for grader, process in runs.items()})


@pytest.mark.slow  # two whole `course grade` runs at once (the shared fixture)
def test_two_graders_grade_different_students_into_one_database_at_once(shared, postgres_server):
    assert shared.statuses == {"first": 0, "second": 0}, "\n".join(shared.outputs.values())
    assert cell_points(shared.courses["first"] / "reports" / f"{F1}-cells.csv")["bob"] == {
        "test_double": 1, "test_double_negative": 1, "test_square_sum": 0, "test_norm": 0, "total": 2, "max": 7}
    assert not (shared.courses["first"] / "gradebook.db").exists()  # nothing went to the default SQLite gradebook

    import psycopg

    with psycopg.connect(postgres_server.url("shared")) as connection:
        def rows(sql: str) -> list[tuple]:
            return connection.execute(sql).fetchall()
        assert rows("SELECT name FROM assignment ORDER BY name") == [(F1,), (F2,)]
        assert rows("SELECT id FROM student ORDER BY id") == [("alice",), ("bob",), ("carol",)]
        assert rows("SELECT count(*) FROM submitted_assignment") == [(len(EXPECTED),)]
        assert rows("SELECT count(*) FROM submitted_notebook") == [(len(EXPECTED),)]
        # each grade cell recorded once, and each submitted notebook's grade for it once
        assert rows("SELECT count(*) FROM grade_cells") == [(6,)]
        assert rows("SELECT count(*) FROM grade") == [(3 * 4 + 2 * 2,)]  # f1: 3 notebooks of 4 cells; f2: 2 of 2


@pytest.mark.slow  # two whole `course grade` runs at once (the shared fixture)
def test_nbgrader_reads_the_same_database_as_the_formgrader_does(shared, tmp_path):
    first = shared.courses["first"]
    scores = submissions_of(shared.url, first)
    assert scores == EXPECTED
    shutil.copy(REPO / "nbgrader_config.py", first / "nbgrader_config.py")  # it reads $COURSE_DB
    scripts = str(Path(sys.executable).parent)  # nbgrader runs `alembic` by name: the environment is activated
    export = subprocess.run(["nbgrader", "export", "--to", str(tmp_path / "nbgrader.csv")], cwd=first, timeout=120,
                            env={**os.environ, "COURSE_DB": shared.url, "PATH": scripts + os.pathsep + os.environ["PATH"]},
                            capture_output=True, text=True)
    assert export.returncode == 0, export.stderr
    with (tmp_path / "nbgrader.csv").open(newline="") as handle:
        exported = {(row["assignment"], row["student_id"]): float(row["score"]) for row in csv.DictReader(handle)}
    missing = {(F2, "bob"): 0}  # no notebook handed in
    assert exported == EXPECTED | missing


@pytest.mark.slow  # two whole `course grade` runs at once (the shared fixture)
def test_course_report_reads_the_postgres_gradebook(shared):
    first = shared.courses["first"]
    report = run_course(first, "report", "--db", shared.url)
    assert report.returncode == 0, report.stderr
    f1, f2 = ((first / "reports" / f"{a}.md").read_text() for a in (F1, F2))
    assert "- submissions graded: 3" in f1 and "mean: 5.33" in f1 and (first / "reports" / f"{F1}.png").exists()
    assert "- submissions graded: 2" in f2 and "- bob: missing notebook" in f2


@pytest.mark.slow  # two whole `course grade` runs at once (the shared fixture)
def test_course_export_reads_the_postgres_gradebook(shared, tmp_path):
    export = run_course(shared.courses["second"], "export", "--format", "csv", "--db", shared.url,
                        "--output", str(tmp_path / "grades.csv"))
    assert export.returncode == 0, export.stdout + export.stderr
    with (tmp_path / "grades.csv").open(newline="", encoding="utf-8-sig") as handle:  # with a BOM, for spreadsheets
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert {s: (rows[s][F1], rows[s][F2]) for s in rows} == {  # "": no notebook handed in
        "alice": ("7", "3"), "bob": ("2", ""), "carol": ("7", "2")}


# One grader's registration of both assignments, released at the same moment as the others' (a start file).
REGISTER = """
import sys, time
from pathlib import Path
from course.gradebook import register_assignment
# imported before the start, so that the processes register at the same moment
import course.database, course.nbgrader_api, course.registration, nbgrader.api, nbgrader.apps, psycopg
url, root, scratch, ready, start = sys.argv[1:]
Path(ready).touch()
while not Path(start).exists():
    time.sleep(0.01)
for assignment in ("f1-basics", "f2-tensors"):
    register_assignment(url, Path(root), assignment, Path(scratch) / assignment)
"""


def test_registrations_started_at_the_same_moment_take_turns(released, postgres_server, tmp_path):
    """nbgrader's generate_assignment is not safe when two run at once: without the lock this fails most times."""
    from course.database import normalized_url

    url = normalized_url(postgres_server.create_database("registrations"))
    start = tmp_path / "start"
    ready = [tmp_path / f"ready{i}" for i in range(3)]
    processes = []
    try:
        for i, flag in enumerate(ready):
            processes.append(subprocess.Popen([sys.executable, "-c", REGISTER, url, str(released),
                                               str(tmp_path / f"scratch{i}"), str(flag), str(start)],
                                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        deadline = time.monotonic() + 120
        while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
            time.sleep(0.05)
        start.touch()  # all have imported everything: they register at the same moment
        outputs = [process.communicate(timeout=300)[0] for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert [p.returncode for p in processes] == [0] * 3, "\n".join(outputs)
    import psycopg

    with psycopg.connect(postgres_server.url("registrations")) as connection:
        def rows(sql: str) -> list[tuple]:
            return connection.execute(sql).fetchall()
        assert rows("SELECT name FROM assignment ORDER BY name") == [(F1,), (F2,)]
        assert rows("SELECT name FROM notebook ORDER BY name") == [(F1,), (F2,)]
        assert rows("SELECT name FROM base_cell WHERE type = 'GradeCell' ORDER BY name") == sorted(
            [("test_double",), ("test_double_negative",), ("test_square_sum",), ("test_norm",), ("test_standardize",),
             ("test_largest",)])
        # the course's own tables too: created under the lock, never by two runs at once
        assert rows("SELECT to_regclass('course_graded') IS NOT NULL, to_regclass('course_override') IS NOT NULL") == [
            (True, True)]


def test_preflight_names_a_wrong_password_a_missing_database_and_missing_rights(postgres_server):
    server = postgres_server
    assert database_problem(normalized_url(server.url())) is None
    wrong = server.url().replace(f":{server.password}@", ":not-the-password@")
    assert "cannot log in: check the user and password" in database_problem(normalized_url(wrong))
    assert "not-the-password" not in database_problem(normalized_url(wrong))
    missing = database_problem(normalized_url(server.url("no_such_course")))
    assert "the database no_such_course does not exist" in missing and "createdb" in missing

    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as connection:
        connection.execute("CREATE ROLE reader LOGIN PASSWORD 'reader'")
    server.create_database("owned_by_course")
    reader = f"postgresql://reader:reader@{server.host}:{server.port}/owned_by_course"
    assert "reader may not create the gradebook's tables" in database_problem(normalized_url(reader))
