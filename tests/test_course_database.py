"""Gradebook URLs and the preflight that stops ``course grade`` before grading when the database cannot be used.

No database server is needed here: a closed loopback port stands for a server that is
down, an uninstalled driver for a missing one. tests/test_postgres.py checks the answers
that need a real server (wrong password, missing database, missing rights).
"""
from __future__ import annotations

import socket
import sqlite3
import sys
import threading
import time
from pathlib import Path

import pytest

from course.database import checked_url, database_problem, gradebook_lock, normalized_url, shown
from fixtures.course_support import make_course, run_course


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_urls_as_instructors_type_them():
    assert normalized_url("postgresql://grader@db.example.edu/ml101") == "postgresql+psycopg://grader@db.example.edu/ml101"
    assert normalized_url("postgres://grader:pw@db:5433/ml101") == "postgresql+psycopg://grader:pw@db:5433/ml101"
    assert normalized_url("postgresql+psycopg2://g@db/x") == "postgresql+psycopg2://g@db/x"  # a driver chosen on purpose
    assert normalized_url("sqlite:////srv/course/gradebook.db") == "sqlite:////srv/course/gradebook.db"
    assert normalized_url("grades/book.db") == f"sqlite:///{Path('grades/book.db').resolve()}"
    assert shown("postgresql+psycopg://grader:secret@db/ml101") == "postgresql://grader:***@db/ml101"


def test_the_default_sqlite_gradebook_passes_and_a_bad_one_is_named(tmp_path):
    assert checked_url(None, f"sqlite:///{tmp_path / 'gradebook.db'}") == (f"sqlite:///{tmp_path / 'gradebook.db'}", None)
    sqlite3.connect(tmp_path / "real.db").execute("CREATE TABLE t (x)").connection.close()
    assert database_problem(f"sqlite:///{tmp_path / 'real.db'}") is None
    assert "does not exist" in database_problem(f"sqlite:///{tmp_path / 'no' / 'such' / 'gradebook.db'}")
    (tmp_path / "notes.db").write_text("not a database, just notes\n" * 100)
    assert "not a usable SQLite database" in database_problem(f"sqlite:///{tmp_path / 'notes.db'}")


def test_a_server_that_does_not_answer_is_one_line_within_seconds():
    start = time.monotonic()
    problem = database_problem(normalized_url(f"postgresql://grader:secret@127.0.0.1:{closed_port()}/ml101"))
    assert time.monotonic() - start < 15  # the connect timeout is 5 s; refused at once on loopback
    assert "cannot reach the database server 127.0.0.1:" in problem and "is it running" in problem
    assert "\n" not in problem and "secret" not in problem
    unknown = database_problem(normalized_url("postgresql://grader@no-such-host.invalid/ml101"))
    assert "host name no-such-host.invalid is unknown" in unknown


def test_a_missing_driver_names_the_package_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    problem = database_problem(normalized_url("postgresql://grader@127.0.0.1/ml101"))
    assert problem == "the database driver psycopg for postgresql is not installed: pip install 'psycopg[binary]'"
    assert "pip install 'mysqlclient'" in database_problem("mysql://grader@127.0.0.1/ml101")


def test_not_a_url_and_an_unknown_kind_of_database():
    assert "is not a database URL" in database_problem("postgresql://grader@host:notaport/x")
    assert "unknown kind of database 'oracle+nosuchdriver'" in database_problem("oracle+nosuchdriver://u:pw@host/x")


def test_course_grade_and_report_stop_before_grading_with_one_line(tmp_path):
    root = make_course(tmp_path / "course")
    submissions = tmp_path / "submissions" / "alice" / "f1-basics"
    submissions.mkdir(parents=True)
    (submissions / "f1-basics.ipynb").write_text("{}")
    down = f"postgresql://grader:secret@127.0.0.1:{closed_port()}/ml101"
    no_driver = "mysql://grader@127.0.0.1/ml101"  # MySQL's driver is not installed with the course
    for args in (("grade", str(tmp_path / "submissions"), "--db", down), ("grade", str(tmp_path / "submissions"),
                 "--db", no_driver), ("report", "--db", down)):
        run = run_course(root, *args, timeout=120)
        assert run.returncode == 2, run.stdout + run.stderr
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "secret" not in lines[0], run.stderr
        assert ("cannot reach the database server" if "postgresql" in args[-1] else "pip install") in lines[0]
    assert not (root / "submitted").exists() and not (root / "grades.csv").exists()  # nothing was graded


def test_the_sqlite_registration_lock_makes_two_processes_take_turns(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    inside, overlaps = [], []

    def hold() -> None:
        with gradebook_lock(url):
            overlaps.append(len(inside))
            inside.append(1)
            time.sleep(0.3)
            inside.pop()

    # flock locks belong to open files: two threads with their own descriptors contend like two processes
    threads = [threading.Thread(target=hold) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [0, 0, 0]
