"""The sandbox command a grading kernel starts with: what it binds, hides and limits."""
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from course.autograde import data_root
from course.sandbox import SandboxPolicy, bwrap_path, hand_over, launcher_args, python_paths, sandbox_command


def policy(tmp_path: Path, **changes) -> SandboxPolicy:
    folders = {name: tmp_path / name for name in ("work", "home", "runtime")}
    for folder in folders.values():
        folder.mkdir(exist_ok=True)
    settings = {"readable": (sys.prefix,), "env": {"COURSE_DATA": "mnist5k"}, **changes}
    return SandboxPolicy(workdir=str(folders["work"]), home=str(folders["home"]), runtime=str(folders["runtime"]),
                         **settings)


def pairs(command: list[str], flag: str) -> list[tuple[str, str]]:
    return [(command[i + 1], command[i + 2]) for i, arg in enumerate(command) if arg == flag]


def test_the_kernel_gets_no_network_its_own_processes_and_only_its_folders_writable(tmp_path):
    command = sandbox_command(policy(tmp_path), ["python", "-m", "ipykernel_launcher"], bwrap="/usr/bin/bwrap")
    for flag in ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent", "--clearenv"):
        assert flag in command
    assert pairs(command, "--bind") == [(str(tmp_path / "runtime"), str(tmp_path / "runtime"))]  # the sockets only
    tmpfs = [command[i + 1] for i, arg in enumerate(command) if arg == "--tmpfs"]
    assert tmpfs == ["/dev/shm", "/tmp"]  # in memory, size-limited, gone with the sandbox
    assert (str(tmp_path / "work"), "/submission") in pairs(command, "--ro-bind")  # copied in, never written
    assert (sys.prefix, sys.prefix) in pairs(command, "--ro-bind")
    assert command[command.index("--remount-ro") + 1] == "/"
    assert command[-3:] == ["python", "-m", "ipykernel_launcher"]


def test_only_listed_variables_reach_the_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "do-not-leak")
    command = sandbox_command(policy(tmp_path), ["python"], bwrap="/usr/bin/bwrap")
    variables = {name for name, _ in pairs(command, "--setenv")}
    assert variables == {"PATH", "HOME", "TMPDIR", "COURSE_DATA"} and "do-not-leak" not in " ".join(command)


def limits_of(command: list[str]) -> list[str]:
    start = command.index("-c") + 2
    return command[start: command.index("--", start)]


def test_as_root_the_kernel_drops_to_its_own_user_id_and_keeps_the_process_limit(tmp_path):
    rooted = sandbox_command(policy(tmp_path, uid=201234), ["python"], bwrap="/usr/bin/bwrap")
    assert "--unshare-user" not in rooted  # a user namespace would keep uid 0, which RLIMIT_NPROC ignores
    assert limits_of(rooted) == ["201234", str(6 * 1024**3), "256", str(512 * 1024**2), "3600", "1"]
    assert "--unshare-user" in sandbox_command(policy(tmp_path), ["python"], bwrap="/usr/bin/bwrap")


def test_without_bubblewrap_only_the_limits_and_the_variables_apply(tmp_path):
    command = sandbox_command(policy(tmp_path, isolate=False), ["python", "-m", "ipykernel_launcher"])
    launcher = launcher_args(policy(tmp_path, isolate=False), ["python", "-m", "ipykernel_launcher"])
    assert command == ["env", "COURSE_DATA=mnist5k", *launcher]  # same data and threads as sandboxed
    assert limits_of(command) == ["-1", str(6 * 1024**3), "-1", str(512 * 1024**2), "3600", "0"]  # no process limit


def test_the_data_folder_is_the_one_helpers_reads(monkeypatch, tmp_path):
    from helpers.data import data_root as helpers_data_root

    assert data_root() == helpers_data_root()
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert data_root() == helpers_data_root() == tmp_path.resolve()


def test_without_a_working_sandbox_grading_refuses_unless_told_or_trusted(tmp_path, monkeypatch):
    import course.sandbox
    from course.grade import checked_sandbox
    from course.settings import GradeSettings

    monkeypatch.setattr(course.sandbox, "bwrap_path", lambda: None)
    settings, error = checked_sandbox(GradeSettings(), tmp_path)
    assert settings is None
    assert "bubblewrap (bwrap) is not installed" in error and "apt-get install bubblewrap" in error
    assert "--no-sandbox" in error
    settings, warning = checked_sandbox(GradeSettings(sandbox=False), tmp_path)
    assert settings.sandbox is False and "WITHOUT the sandbox" in warning
    settings, warning = checked_sandbox(GradeSettings(), tmp_path, trusted=True)  # the course's own examples
    assert settings.sandbox is False and "without the sandbox" in warning
    monkeypatch.setattr(course.sandbox, "bwrap_path", lambda: "/bin/false")  # installed, but refuses to work
    settings, error = checked_sandbox(GradeSettings(), tmp_path)
    assert settings is None and "exit status 1" in error


def test_the_kernel_reads_the_python_installation_but_not_the_course_or_the_current_folder(tmp_path, monkeypatch):
    from course.sandbox import python_paths

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    course_root = Path(__file__).resolve().parent.parent
    monkeypatch.setattr(sys, "path", [str(downloads), str(course_root), *sys.path])
    paths = python_paths((course_root,))
    assert str(downloads) not in paths and str(course_root) not in paths
    assert str(Path(sys.prefix).resolve()) in paths and str(course_root / "helpers") in paths


# Real runs inside bubblewrap: a few seconds each. Each hostile program is bounded on its
# own (it writes 64 MiB at most, spins 10 s at most, its stray child sleeps 60 s at most)
# so that a failed limit cannot harm the machine.
needs_bwrap = pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap (bwrap) is not installed: `make sysdeps`")


def run_inside(tmp_path: Path, code: str, **changes) -> subprocess.CompletedProcess:
    uid = 200_000 + os.getpid() % 100_000 if os.geteuid() == 0 else -1
    sandbox = policy(tmp_path, readable=python_paths(), uid=uid, **changes)
    hand_over(Path(sandbox.runtime), uid)
    return subprocess.run(sandbox_command(sandbox, [sys.executable, "-c", code]), capture_output=True, text=True,
                          timeout=60)


@needs_bwrap
def test_the_disk_limit_stops_a_writer_and_the_root_is_read_only(tmp_path):
    code = """import os
written = 0
try:
    with open('big', 'wb') as handle:
        for _ in range(64):
            handle.write(bytes(1024 ** 2)); handle.flush(); written += 1
except OSError as error:
    print('stopped after', written, 'MiB:', error.strerror)
for path in ('/evil', '/usr/evil', '/submission/evil'):
    try:
        open(path, 'w')
        print('wrote', path)
    except OSError:
        pass
print('cwd', os.getcwd(), 'home', os.environ['HOME'])
"""
    done = run_inside(tmp_path, code, disk_bytes=16 * 1024**2)
    assert re.search(r"stopped after 1[0-6] MiB", done.stdout), done.stdout + done.stderr
    assert "wrote" not in done.stdout and "cwd /tmp/work home /tmp/home" in done.stdout
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["home", "runtime", "work"]  # nothing came out


@needs_bwrap
def test_the_cpu_limit_ends_a_spinning_process(tmp_path):
    code = "import time\nend = time.time() + 10\nwhile time.time() < end:\n    pass\nprint('spun 10 s')"
    started = time.monotonic()
    done = run_inside(tmp_path, code, cpu_seconds=2)
    assert "spun" not in done.stdout and done.returncode != 0  # SIGXCPU, then SIGKILL at the hard limit
    assert time.monotonic() - started < 9


@needs_bwrap
def test_processes_left_behind_die_with_the_sandbox_and_there_is_no_network(tmp_path):
    marker = f"stray-{uuid.uuid4().hex}"
    code = f"""import os, socket, subprocess
subprocess.Popen(['python3', '-c', 'import time; time.sleep(60)', '{marker}'], start_new_session=True)
try:
    socket.create_connection(('1.1.1.1', 53), timeout=3)
    print('network: reached')
except OSError:
    print('network: unreachable')
"""
    try:
        done = run_inside(tmp_path, code)
        assert "network: unreachable" in done.stdout, done.stdout + done.stderr
        time.sleep(0.5)
        assert subprocess.run(["pgrep", "-f", marker], capture_output=True).stdout == b""
    finally:
        subprocess.run(["pkill", "-9", "-f", marker])
