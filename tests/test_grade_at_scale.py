"""A real class: any student id, LMS archives with broken members, a long TMPDIR, runs that
stop half-way and start again, and grading on a Dask cluster whose workers die.

Every grading run here uses the tiny fixture assignments (a few seconds per notebook), so
the points are known: f1-basics is worth 7 (test_double 1, test_double_negative 1,
test_square_sum 2, test_norm 3).
"""
from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from course.sandbox import bwrap_path
from fixtures.course_support import answers, attention, cell_points, make_course, run_course, submission

F1 = "f1-basics"
FULL = {"test_double": 1.0, "test_double_negative": 1.0, "test_square_sum": 2.0, "test_norm": 3.0}
needs_sandbox = pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap (bwrap) is not installed: `make sysdeps`")


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    root = make_course(tmp_path_factory.mktemp("scale") / "course")
    assert run_course(root, "release").returncode == 0
    return root


def fresh_course(released: Path, folder: Path) -> Path:
    return make_course(folder, release=released / "release")


def write_files(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def corrupt_member(data: bytes, member: str) -> bytes:
    """A zip with the middle of one member's compressed bytes overwritten (zlib then refuses it)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        info = zipped.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size // 2
    return data[:middle] + bytes(48) + data[middle + 48:]


LONG_IDS = {
    "email": "jo.doe+ml101@students.university-of-somewhere.example.edu",
    "spaces and accents": "Zoë Ångström Nuñez",
    "110 characters": "s" * 110,
    "non-Latin": "李小龙",
}


def test_any_student_id_in_a_long_tmpdir_is_graded_exactly_like_a_short_one(released, tmp_path):
    """E-mail addresses, spaces, accents, 110 characters; scratch under a 90-byte TMPDIR; an LMS zip beside them."""
    root = fresh_course(released, tmp_path / "course")
    complete = submission(root, F1)
    files = {f"alice/{F1}/{F1}.ipynb": complete}
    files.update({f"{student}/{F1}/{F1}.ipynb": complete for student in LONG_IDS.values()})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr(f"sam_{F1}.ipynb", complete)
        zipped.writestr(f"broken_{F1}.ipynb", complete)
        zipped.writestr(f"../escaped_{F1}.ipynb", complete)
    files["lms-download.zip"] = corrupt_member(buffer.getvalue(), f"broken_{F1}.ipynb")
    folder = write_files(tmp_path / "class", files)
    long_tmp = tmp_path / ("t" * 60)  # with pytest's own folder: far past what 107-byte sockets allow
    long_tmp.mkdir()
    assert len(str(long_tmp)) > 90
    result = run_course(root, "grade", str(folder), "--jobs", "2", env={"TMPDIR": str(long_tmp)})
    assert result.returncode == 1, result.stderr  # the broken and the escaped members need attention
    assert "too long for the grading kernels' sockets" in result.stderr
    points = cell_points(root / "reports" / f"{F1}-cells.csv")
    assert points["alice"] == {**FULL, "total": 7.0, "max": 7.0}
    for student in [*LONG_IDS.values(), "sam"]:
        assert points[student] == points["alice"], student
    reasons = {row["reason"] for row in attention(root)}
    assert any("broken_f1-basics.ipynb" in r and "corrupt in the archive" in r for r in reasons), reasons
    assert any("../escaped_f1-basics.ipynb" in r and "leaves the archive" in r for r in reasons), reasons
    feedback = root / "feedback" / LONG_IDS["email"] / F1 / f"{F1}.html"
    assert "7.0 / 7.0" in feedback.read_text()
    assert list(long_tmp.iterdir()) == []  # the scratch went to /tmp and was removed


def test_the_root_cause_of_an_nbgrader_failure_is_named_not_its_wrapper():
    from course.nbgrader_api import root_cause

    log = (Path(__file__).parent / "fixtures" / "logs" / "autograde-socket-too-long.log").read_text()
    assert "NbGraderException" in log  # nbgrader's own closing line, which names no cause
    assert root_cause(log).startswith("zmq.error.ZMQError: File name too long")
    assert root_cause("[ERROR] something odd happened") == "something odd happened"


def test_a_scratch_root_leaves_room_for_the_kernel_sockets_or_says_how_to_fix_it(tmp_path, monkeypatch):
    import tempfile

    import course.runner as runner

    root, note = runner.scratch_root()
    try:
        assert runner.socket_room(root) >= 0 and note == ""
    finally:
        root.rmdir()
    long_tmp = tmp_path / ("x" * 100)
    long_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long_tmp))
    monkeypatch.setattr(runner, "SHORT_TMP", str(long_tmp / "also-long"))
    with pytest.raises(runner.ScratchTooLong, match="set TMPDIR to a short folder"):
        runner.scratch_root()


def graded_counts(stdout: str) -> tuple[int, int]:
    """(graded, skipped) from the summary line of `course grade`."""
    found = re.search(r"(\d+) submissions graded, (\d+) already graded", stdout)
    assert found, stdout
    return int(found.group(1)), int(found.group(2))


def test_a_second_run_grades_only_new_bytes_and_force_grades_everything_again(released, tmp_path):
    root = fresh_course(released, tmp_path / "course")
    folder = write_files(tmp_path / "class", {f"ann/{F1}/{F1}.ipynb": submission(root, F1),
                                              f"bo/{F1}/{F1}.ipynb": submission(root, F1, norm="def norm(v):\n    return 0")})
    assert graded_counts(run_course(root, "grade", str(folder), "--jobs", "2").stdout) == (2, 0)
    assert graded_counts(run_course(root, "grade", str(folder)).stdout) == (0, 2)
    write_files(folder, {f"bo/{F1}/{F1}.ipynb": submission(root, F1)})  # bo hands in a corrected notebook
    again = run_course(root, "grade", str(folder))
    assert graded_counts(again.stdout) == (1, 1) and again.returncode == 0
    assert cell_points(root / "reports" / f"{F1}-cells.csv")["bo"]["total"] == 7
    assert graded_counts(run_course(root, "grade", str(folder), "--force", "--jobs", "2").stdout) == (2, 0)
    regraded = run_course(root, "regrade", "bo", F1)  # one submission again, from its copy in submitted/
    assert regraded.returncode == 0 and graded_counts(regraded.stdout) == (1, 0)
    assert cell_points(root / "reports" / f"{F1}-cells.csv")["bo"]["total"] == 7
    missing = run_course(root, "regrade", "nobody", F1)
    assert missing.returncode == 2 and "no submission of f1-basics by 'nobody'" in missing.stderr


def ledger_rows(root: Path) -> int:
    with sqlite3.connect(root / "gradebook.db") as db:
        try:
            return db.execute("SELECT count(*) FROM course_graded WHERE fingerprint != ''").fetchone()[0]
        except sqlite3.OperationalError:  # the table does not exist yet
            return 0


def test_a_run_killed_half_way_is_finished_by_the_next_one_without_duplicates(released, tmp_path):
    root = fresh_course(released, tmp_path / "course")
    students = ["p1", "p2", "p3", "p4"]
    folder = write_files(tmp_path / "class", {f"{s}/{F1}/{F1}.ipynb": submission(root, F1) for s in students})
    env = {**os.environ, "COURSE_DATA": "mnist5k", "PYTHONWARNINGS": "ignore"}
    client = subprocess.Popen([sys.executable, "-m", "course", "--root", str(root), "grade", str(folder), "--jobs", "1"],
                              cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while ledger_rows(root) < 1 and client.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        os.killpg(client.pid, signal.SIGKILL)  # the instructor's terminal closed: everything it started dies
        client.wait()
    done = ledger_rows(root)
    assert 1 <= done < len(students), "the run should have been stopped half-way"
    rerun = run_course(root, "grade", str(folder))
    assert graded_counts(rerun.stdout) == (len(students) - done, done)
    with sqlite3.connect(root / "gradebook.db") as db:
        rows = db.execute("SELECT student.id, count(*) FROM submitted_assignment JOIN student "
                          "ON submitted_assignment.student_id = student.id GROUP BY student.id").fetchall()
    assert sorted(rows) == [(s, 1) for s in students]
    assert all(cell_points(root / "reports" / f"{F1}-cells.csv")[s]["total"] == 7 for s in students)


def test_slurm_job_scripts_run_one_single_threaded_grading_worker():
    from course.cluster import SlurmOptions, slurm_cluster

    options = SlurmOptions(queue="teaching", account="ml101", walltime="01:30:00", memory="10GiB",
                           scheduler_host="127.0.0.1")
    cluster = slurm_cluster(options, jobs=0)  # no job is submitted: only the script is looked at
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -p teaching" in script and "#SBATCH -A ml101" in script and "#SBATCH -t 01:30:00" in script
    assert "#SBATCH --cpus-per-task=1" in script and re.search(r"#SBATCH --mem=1\dG", script), script
    assert f"{sys.executable} -m distributed.cli.dask_worker tcp://127.0.0.1:" in script
    assert "--nthreads 1" in script and "--nworkers" not in script  # one grading task at a time per job


# --- Dask: a scheduler and two workers on loopback, started and stopped by the test ------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def grading_processes() -> dict[int, dict]:
    """Running `python -m course.autograde SPEC` processes: pid -> their parent's pid and the task's student."""
    found = {}
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
            if b"course.autograde" not in command:
                continue
            spec = json.loads(Path(command[command.index(b"course.autograde") + 1].decode()).read_text())
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            found[int(proc.name)] = {"parent": parent, "student": spec["task"]["student"]}
        except (OSError, ValueError, IndexError, KeyError):
            continue
    return found


def is_dask_worker(pid: int, workers: set[int]) -> bool:
    """Whether ``pid`` is a worker process under one of the test's own ``dask worker`` commands."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return int(stat[3]) in workers and b"python" in command  # stat[3]: the process group, the nanny's session


def kill_workers_grading(kills: dict[str, int], workers: set[int], client: subprocess.Popen) -> list[str]:
    """SIGKILL the Dask worker process grading a student, as many times as ``kills`` says; who, in order.

    It watches until the grading run (``client``) ends: on a loaded machine the Dask workers
    reach the students in any order, minutes apart.
    """
    killed, done = set(), []
    while sum(kills.values()) and client.poll() is None:
        for info in grading_processes().values():
            parent = info["parent"]
            if kills.get(info["student"]) and parent not in killed and is_dask_worker(parent, workers):
                os.kill(parent, signal.SIGKILL)
                killed.add(parent)
                kills[info["student"]] -= 1
                done.append(info["student"])
        time.sleep(0.2)
    return done


class Crashing:
    """A Dask task function that grades nothing: it sleeps, or kills its own worker process (SIGKILL).

    ``bomb`` kills every worker it runs on; ``victim`` kills the first one only (a file records
    that it has); everyone else takes ``seconds``, so that a worker is busy when another dies.
    """

    def __init__(self, marks: Path, seconds: float):
        self.marks, self.seconds = marks, seconds

    def __call__(self, task, bundle, hidden):
        from course.tasks import GradeResult

        first = not (self.marks / task.student).exists()
        with open(self.marks / task.student, "a") as runs:  # a line per attempt
            runs.write("started\n")
        if task.student == "bomb" or (task.student == "victim" and first):
            time.sleep(0.5)
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(self.seconds)
        return GradeResult(task.student, task.assignment, "nb", points={"cell": 1.0}, max_points={"cell": 1.0})


@contextmanager
def local_dask(workers: int):
    """A client of a LocalCluster of ``workers`` single-threaded worker processes on loopback."""
    import cloudpickle
    from distributed import Client, LocalCluster

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import the test module
    with LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as local, \
            Client(local) as client:
        yield client


def run_fake(client, students: list[str], task_function: Crashing) -> list:
    """One task per student through course.cluster, ``task_function`` standing in for the grading."""
    from course.cluster import run_on_cluster
    from course.settings import GradeSettings
    from course.tasks import AssignmentBundle, GradeTask

    tasks = [GradeTask(f"{n:04d}", s, "a1", "nb.ipynb", b"{}", GradeSettings(), "b") for n, s in enumerate(students)]
    return list(run_on_cluster(client, tasks, {"a1": AssignmentBundle("a1", {}, {}, b"")}, (), task_function))


@pytest.mark.cluster
@pytest.mark.parametrize("workers", [1, 2])
def test_a_worker_death_is_charged_to_the_task_it_was_running_and_to_no_other(tmp_path, workers):
    """The bomb kills two workers and is reported; the victim's worker dies once and it is graded on
    another (or the same one, restarted); the others, waiting while workers died, are each graded
    once, uncharged. Dask alone charges a death to every task it had handed the worker, queued ones
    included: with 7 tasks on 2 single-threaded workers, other students were blamed in 3 runs of 3;
    and a bundle sent as Dask data died with the last worker that held it (1 run in 6)."""
    from course.cluster import KILLED

    students = ["ann", "bomb", "bo", "victim", "cy", "dee", "eve"]
    with local_dask(workers) as client:
        results = run_fake(client, students, Crashing(tmp_path, 1.0))
    assert sorted(task.student for task, _ in results) == sorted(students)  # each once
    reasons = {result.student: result.attention for _, result in results if result.attention}
    assert reasons == {"bomb": (f"not graded: {KILLED}",)}
    assert all(result.score == 1.0 for _, result in results if result.student != "bomb")


@pytest.mark.cluster
def test_a_task_whose_worker_leaves_the_cluster_politely_is_graded_elsewhere_uncharged(tmp_path):
    """A worker retired while it grades (a SLURM job at its time limit, an instructor scaling down):
    its submission is not the cause, so it is graded on another worker with no attention line."""
    import threading

    with local_dask(2) as client:
        first = sorted(client.nthreads())[0]
        retire = threading.Timer(1.5, lambda: client.retire_workers(workers=[first], close_workers=True))
        retire.start()
        results = run_fake(client, ["a", "b", "c"], Crashing(tmp_path, 4.0))
        retire.join()
        assert first not in client.nthreads()  # it did leave while grading
    assert sorted(task.student for task, _ in results) == ["a", "b", "c"]
    assert [result.attention for _, result in results] == [(), (), ()]
    attempts = sorted(len((tmp_path / s).read_text().splitlines()) for s in "abc")
    assert attempts == [1, 1, 2]  # the one on the retired worker started again


@pytest.mark.cluster
def test_a_cluster_left_without_workers_reports_every_waiting_submission(tmp_path, monkeypatch):
    """No worker for WORKER_WAIT seconds (every SLURM job ended, all workers stopped): the run
    ends with a line per submission still waiting, none silently dropped, and a rerun grades them."""
    import course.cluster as cluster

    monkeypatch.setattr(cluster, "WORKER_WAIT", 1)
    monkeypatch.setattr(cluster, "POLL", 0.2)
    with local_dask(0) as client:
        results = run_fake(client, ["a", "b"], Crashing(tmp_path, 0.0))
    assert [task.student for task, _ in results] == ["a", "b"]
    assert all("no worker for 1 s" in result.attention[0] for _, result in results)


@pytest.fixture
def dask_cluster(tmp_path):
    """`dask scheduler` and two `dask worker --nthreads 1` (each under its nanny, which restarts a killed worker)."""
    bin_dir = Path(sys.executable).parent
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "COURSE_DATA": "mnist5k", "PYTHONWARNINGS": "ignore"}
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    commands = [[str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]]
    commands += [[str(bin_dir / "dask"), "worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                  "--no-dashboard", "--name", f"grader-{n}"] for n in (1, 2)]
    started = []
    try:
        for n, command in enumerate(commands):
            log = open(logs / f"{n}.log", "wb")
            started.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True, cwd=tmp_path))
            if n == 0:
                time.sleep(2)  # the scheduler listens before the workers call it
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address, {process.pid for process in started[1:]}
    finally:
        for process in reversed(started):  # each in its own session: the nanny, its worker, their children
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.mark.cluster
@pytest.mark.slow
@needs_sandbox
def test_dask_grades_each_submission_once_with_the_points_of_jobs_1_when_workers_die(released, tmp_path, dask_cluster):
    slow = "import time\ntime.sleep(12)\n"  # time for the test to find and kill the worker that grades it
    files = {f"ann/{F1}/{F1}.ipynb": submission(released, F1),
             f"bo/{F1}/{F1}.ipynb": submission(released, F1, norm="def norm(v):\n    return 0"),
             f"cy/{F1}/{F1}.ipynb": (released / "release" / F1 / f"{F1}.ipynb").read_bytes(),
             f"victim/{F1}/{F1}.ipynb": submission(released, F1, double=slow + answers(F1)["double"]),
             f"bomb/{F1}/{F1}.ipynb": submission(released, F1, double=slow + answers(F1)["double"])}
    folder = write_files(tmp_path / "class", files)
    root = fresh_course(released, tmp_path / "on-dask")
    address, workers = dask_cluster
    env = {**os.environ, "COURSE_DATA": "mnist5k", "PYTHONWARNINGS": "ignore"}
    client = subprocess.Popen([sys.executable, "-m", "course", "--root", str(root), "grade", str(folder),
                               "--cluster", address], cwd=root, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        # the victim's worker dies once (it is graded on another), the bomb's twice (reported, not graded)
        done = kill_workers_grading({"victim": 1, "bomb": 2}, workers, client)
        stdout, stderr = client.communicate(timeout=900)
    finally:
        if client.poll() is None:
            os.killpg(client.pid, signal.SIGKILL)
            client.wait()
    assert sorted(done) == ["bomb", "bomb", "victim"]
    assert client.returncode == 1, stderr  # the bomb needs attention
    on_dask = cell_points(root / "reports" / f"{F1}-cells.csv")
    reasons = {row["student"]: row["reason"] for row in attention(root)}
    assert "killed 2 workers" in reasons["bomb"] and on_dask["bomb"]["total"] == 0
    assert set(reasons) == {"bomb"}
    assert graded_counts(stdout) == (5, 0) and stdout.count("victim ") == 1  # one line per submission

    local_root = fresh_course(released, tmp_path / "local")
    (folder / "bomb").rename(tmp_path / "bomb-aside")
    assert run_course(local_root, "grade", str(folder), "--jobs", "1").returncode == 0
    local = cell_points(local_root / "reports" / f"{F1}-cells.csv")
    assert {s: on_dask[s] for s in local} == local  # cell by cell
    assert local["victim"]["total"] == 7 and local["bo"]["total"] == 4 and local["cy"]["total"] == 0
    assert not [p for p in grading_processes().values() if p["student"] in ("victim", "bomb")]  # nothing left over

