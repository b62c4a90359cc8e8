"""Running one grading task in a process of its own, here or on a Dask worker.

A task runs in a fresh process (its own session, so that killing it kills the kernel and
the sandbox too) with a time limit; what it leaves is a GradeResult in JSON. Two ways to
start that process, with the same outcome:

- ``forkserver_start``: forked from a server that imported nbgrader once (importing it
  takes ~4 s each time), for ``course grade --jobs N`` on this machine;
- ``subprocess_start``: ``python -m course.autograde SPEC``, for Dask workers, which run
  tasks in daemonic processes that may not fork multiprocessing children.

Scratch folders are named by the task's short key under a scratch root whose length is
checked first: the kernel's Unix sockets live inside them (see course.settings).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

from course.settings import SOCKET_PATH_LIMIT, SOCKET_SUFFIX
from course.tasks import AssignmentBundle, GradeResult, GradeTask, WorkerSpec

PARENT_VARIABLE = "COURSE_GRADER_PARENT"  # the pid a grading process must not outlive
SHORT_TMP = "/tmp"  # where scratch goes when $TMPDIR is too long for the kernels' sockets


class ScratchTooLong(RuntimeError):
    """No scratch folder short enough for the kernels' Unix sockets."""


def socket_room(root: Path) -> int:
    """Bytes left under the socket limit for the longest socket path a task makes below ``root``."""
    return SOCKET_PATH_LIMIT - len(os.fsencode(str(root) + SOCKET_SUFFIX))


def scratch_root(prefix: str = "course-grade-") -> tuple[Path, str]:
    """A new scratch folder short enough for kernel sockets, and a note when $TMPDIR was not.

    A long $TMPDIR (macOS gives one of ~50 bytes) would push every kernel's socket path past
    107 bytes; then the scratch goes to /tmp instead, and the note says so.
    """
    default = Path(tempfile.gettempdir())
    candidates = [default] + ([Path(SHORT_TMP)] if Path(SHORT_TMP) != default else [])
    for base in candidates:
        probe_root = base / f"{prefix}XXXXXXXX"
        if socket_room(probe_root) >= 0 and base.is_dir() and os.access(base, os.W_OK):
            root = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
            note = "" if base == default else (
                f"the temporary folder {default} is too long for the grading kernels' sockets "
                f"(Unix allows {SOCKET_PATH_LIMIT} bytes): scratch courses go to {root} instead")
            return root, note
    raise ScratchTooLong(
        f"the temporary folder {default} is too long for the grading kernels' Unix sockets "
        f"({SOCKET_PATH_LIMIT} bytes at most) and {SHORT_TMP} is not writable: set TMPDIR to a short folder, e.g. /tmp")


def unpack(bundle: AssignmentBundle, root: Path) -> Path:
    """The bundle as folders under ``root`` (once per bundle and machine): source/, release/, gradebook.db."""
    folder = root / "bundles" / bundle.key
    if (folder / "ready").exists():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix="unpacking-", dir=root))
    for relative, data in bundle.source_files.items():
        (partial / "source" / relative).parent.mkdir(parents=True, exist_ok=True)
        (partial / "source" / relative).write_bytes(data)
    for name, data in bundle.release.items():
        (partial / "release" / name).parent.mkdir(parents=True, exist_ok=True)
        (partial / "release" / name).write_bytes(data)
    (partial / "gradebook.db").write_bytes(bundle.template_db)
    (partial / "bundle.json").write_text(json.dumps({"seed": bundle.seed, "references": bundle.references}))
    (partial / "ready").write_text(bundle.key)
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        partial.rename(folder)  # atomic: a concurrent task sees all of it or none
    except OSError:  # another task unpacked it first
        shutil.rmtree(partial, ignore_errors=True)
    return folder


Start = Callable[[str], "Handle"]


class Handle:
    """A started grading process: wait for it with a limit, or kill it with everything it started."""

    def __init__(self, process, pid: int):
        self.process, self.pid = process, pid

    def wait(self, timeout: float) -> bool:
        """True when it ended within ``timeout`` seconds."""
        if isinstance(self.process, subprocess.Popen):
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        self.process.join(timeout)
        return not self.process.is_alive()

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)  # its own session: the kernel and sandbox go too
        except ProcessLookupError:
            pass
        self.process.wait() if isinstance(self.process, subprocess.Popen) else self.process.join()


def forkserver_start(context) -> Start:
    """Start grading processes forked from ``context``'s server (see :func:`forkserver_context`)."""
    from course.autograde import worker_process

    def start(spec_path: str) -> Handle:
        process = context.Process(target=worker_process, args=(spec_path,))
        process.start()
        return Handle(process, process.pid)

    return start


def forkserver_context(short_dir: Path):
    """A multiprocessing context whose server imported nbgrader once.

    The server listens on a Unix socket in multiprocessing's temporary folder, made under
    ``short_dir`` (a folder :func:`scratch_root` found short enough) rather than $TMPDIR.
    """
    import multiprocessing
    import multiprocessing.forkserver
    import multiprocessing.util

    saved, tempfile.tempdir = tempfile.tempdir, str(short_dir)
    try:
        multiprocessing.util.get_temp_dir()  # made once per process, and kept
    finally:
        tempfile.tempdir = saved
    context = multiprocessing.get_context("forkserver")
    # torch and the checks: the grader judges each test cell's hidden checks itself (course.checks)
    context.set_forkserver_preload(["course.autograde", "course.execute", "course.submissions", "nbgrader.apps",
                                    "course.checks", "torch"])
    # Started now, not at the first task: the server imports those (about 7 s of CPU) while the
    # caller does its own preparation (the assignment bundles) on the other cores.
    multiprocessing.forkserver.ensure_running()
    return context


def subprocess_start(spec_path: str) -> Handle:
    """Start ``python -m course.autograde SPEC`` in a session of its own, output to the worker log.

    It dies with the process that started it (a Dask worker killed mid-task must not leave
    a grading process and its kernel behind): see :func:`course.autograde.die_with_parent`.
    """
    env = {**os.environ, PARENT_VARIABLE: str(os.getpid())}
    with open(Path(spec_path).parent / "worker.log", "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "course.autograde", spec_path], stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                   cwd=Path(spec_path).parent, env=env)
    return Handle(process, process.pid)


def run_task(task: GradeTask, bundle: Path, scratch: Path, start: Start, hidden: tuple[str, ...] = ()) -> GradeResult:
    """Grade ``task`` in a new process; kill it (and its sandbox) when it outlives the limit."""
    scratch.mkdir(parents=True, exist_ok=True)
    spec = WorkerSpec(task, str(bundle), str(scratch), str(scratch / "result.json"), hidden)
    (scratch / "spec.json").write_text(spec.to_json())
    handle = start(str(scratch / "spec.json"))
    timeout = task.settings.worker_timeout
    finished = handle.wait(timeout)
    if not finished:
        handle.kill()
    result_file = scratch / "result.json"
    if result_file.exists():
        return GradeResult.from_json(result_file.read_text())
    log = (scratch / "worker.log").read_text(errors="replace") if (scratch / "worker.log").exists() else ""
    tail = (log.strip().splitlines()[-1:] or ["no output"])[0][:200]
    reason = f"grading did not finish within {int(timeout)} s" if not finished else f"the grader crashed ({tail})"
    return task.not_graded(reason, log=log[-20_000:])
