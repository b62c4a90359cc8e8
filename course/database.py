"""Gradebook database URLs: what instructors type, and whether the database is usable before grading.

The gradebook is SQLite (``sqlite:///<course>/gradebook.db``) by default, or a PostgreSQL
database shared by several graders (nbgrader recommends PostgreSQL then: SQLite is not
made for several writers and breaks on network file systems)::

    course grade SUBMISSIONS --db postgresql://grader@db.example.edu/ml101

The password can be in the URL, in ``~/.pgpass`` or in ``PGPASSWORD`` (libpq reads them).
``postgresql://`` means the psycopg 3 driver (SQLAlchemy's ``postgresql+psycopg://``);
SQLAlchemy on its own would pick psycopg2, which the course does not install.
"""
from __future__ import annotations

import fcntl
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

CONNECT_TIMEOUT = 5  # s: a server that does not answer by then is reported, not waited for
URL_EXAMPLES = "postgresql://USER@HOST[:PORT]/DATABASE or sqlite:////path/to/gradebook.db"
# What the driver says for each kind of refusal -> what the instructor should do.
POSTGRES_REFUSALS = (
    (r"password authentication failed|no password supplied|authentication failed",
     "{user} cannot log in: check the user and password (in the URL, ~/.pgpass or PGPASSWORD)"),
    (r'database "[^"]*" does not exist',
     "the database {database} does not exist on {server}: create it (createdb -h {host} -p {port} -U {user} {database})"),
    (r'role "[^"]*" does not exist',
     "there is no database user {user} on {server}: create it (createuser) or use another user"),
    (r"failed to resolve host|could not translate host name|Name or service not known",
     "the database server's host name {host} is unknown: check the host in the URL"),
    (r"timeout expired",
     "the database server {server} did not answer within {timeout} s: is it running, and reachable from here?"),
    (r"Connection refused|server closed the connection|No such file or directory|Network is unreachable"
     r"|No route to host|could not connect",
     "cannot reach the database server {server}: is it running, and does it accept connections from here?"),
)
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
DRIVER_PACKAGES = {"psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient",
                   "pymysql": "PyMySQL"}


def normalized_url(url: str) -> str:
    """The SQLAlchemy URL for what was typed: PostgreSQL through psycopg 3, a bare file path as SQLite."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    scheme, rest = url.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return url


def shown(url: str) -> str:
    """The URL as it may be printed: without its password, and as typed (no psycopg driver name)."""
    from sqlalchemy.engine import make_url

    text = make_url(url).render_as_string(hide_password=True)
    return "postgresql://" + text.split("://", 1)[1] if text.startswith("postgresql+psycopg://") else text


def database_problem(url: str, timeout: int = CONNECT_TIMEOUT) -> str | None:
    """Why the gradebook database at ``url`` cannot be used, in one line naming the fix; None when it can."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        hidden = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
        return f"{hidden!r} is not a database URL: write {URL_EXAMPLES}"
    if parsed.get_backend_name() == "sqlite":
        return sqlite_problem(parsed.database)
    return server_problem(url, timeout)


def sqlite_problem(database: str | None) -> str | None:
    """Why a SQLite gradebook file cannot be opened for writing, or None."""
    if not database or database == ":memory:":
        return None
    path = Path(database)
    if not path.parent.is_dir():
        return f"the folder of the gradebook {path} does not exist: create it, or give another --db"
    if not os.access(path if path.exists() else path.parent, os.W_OK):
        return f"the gradebook {path} cannot be written here: check its permissions, or give another --db"
    if path.exists():
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
                connection.execute("PRAGMA schema_version").fetchone()
        except sqlite3.DatabaseError as error:
            return f"the gradebook {path} is not a usable SQLite database ({error}): give another --db"
    return None


def server_problem(url: str, timeout: int) -> str | None:
    """Why a database server's gradebook cannot be used (driver, network, login, database, rights), or None."""
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError, NoSuchModuleError

    parsed = make_url(url)
    postgres = parsed.get_backend_name() == "postgresql"
    try:
        # libpq's own limit on connecting (never below 2 s); other drivers keep their defaults
        engine = create_engine(parsed, connect_args={"connect_timeout": max(2, timeout)} if postgres else {})
    except NoSuchModuleError:
        return f"{shown(url)}: unknown kind of database {parsed.drivername!r}: write {URL_EXAMPLES}"
    except ImportError as error:
        module = (error.name or parsed.get_driver_name()).split(".")[0]
        return (f"the database driver {module} for {parsed.get_backend_name()} is not installed: "
                f"pip install '{DRIVER_PACKAGES.get(module, module)}'")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            if postgres and "assignment" not in inspect(connection).get_table_names():
                # a new gradebook: nbgrader creates its tables on first use
                allowed = connection.execute(text("SELECT has_schema_privilege(current_schema(), 'CREATE')")).scalar()
                if not allowed:
                    return (f"{parsed.username or 'this user'} may not create the gradebook's tables in "
                            f"{parsed.database}: GRANT CREATE ON SCHEMA public TO {parsed.username}, or use the "
                            "database's owner")
    except DBAPIError as error:
        return refusal(parsed, str(error.orig), timeout)
    finally:
        engine.dispose()
    return None


def refusal(parsed: URL, message: str, timeout: int) -> str:
    """One line for a server's refusal to connect, naming the fix."""
    host = parsed.host or "localhost"
    port = parsed.port or DEFAULT_PORTS.get(parsed.get_backend_name(), "default port")
    fields = {"user": parsed.username or os.environ.get("PGUSER") or "the default user",
              "database": parsed.database or "(default)", "host": host, "port": port,
              "server": f"{host}:{port}", "timeout": timeout}
    for pattern, advice in POSTGRES_REFUSALS:
        if re.search(pattern, message, re.IGNORECASE):
            return f"gradebook database {shown(str(parsed))}: {advice.format(**fields)}"
    first = " ".join(message.split())[:200]
    return f"cannot open the gradebook database {shown(str(parsed))}: {first}"


def checked_url(given: str | None, default: str) -> tuple[str, str | None]:
    """The gradebook URL to use (``--db`` or the course's own) and why it cannot be used (None when it can)."""
    url = normalized_url(given) if given else default
    return url, database_problem(url)


REGISTRATION_LOCK = 0x636F757273650001  # the PostgreSQL advisory lock that serialises `course grade` runs' registrations


@contextmanager
def gradebook_lock(url: str) -> Iterator[None]:
    """Hold the gradebook's registration lock: a PostgreSQL advisory lock, or a lock on a SQLite file's folder.

    Several `course grade` runs may share one gradebook; nbgrader's generate_assignment
    (which records an assignment's cells) is not safe when two run at once.
    """
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        from sqlalchemy import create_engine, text

        engine = create_engine(parsed)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": REGISTRATION_LOCK})
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": REGISTRATION_LOCK})
        finally:
            engine.dispose()
    elif parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        # the folder, not the file: SQLite's own locks on the file must not be disturbed
        folder = os.open(Path(parsed.database).resolve().parent, os.O_RDONLY)
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
            yield
        finally:
            os.close(folder)  # releases the lock
    else:
        yield
