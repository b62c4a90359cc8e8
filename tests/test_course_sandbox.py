"""The sandbox command a grading kernel starts with: what it binds, hides and limits."""
import sys
from pathlib import Path

from course.autograde import data_root
from course.sandbox import SandboxPolicy, launcher_args, sandbox_command


def policy(tmp_path: Path, **changes) -> SandboxPolicy:
    folders = {name: str(tmp_path / name) for name in ("work", "copy", "home", "tmp", "shm", "runtime")}
    return SandboxPolicy(workdir=folders["work"], work_copy=folders["copy"], home=folders["home"], tmp=folders["tmp"],
                         shm=folders["shm"], runtime=folders["runtime"], readable=(sys.prefix,), env={"COURSE_DATA": "mnist5k"}, **changes)


def pairs(command: list[str], flag: str) -> list[tuple[str, str]]:
    return [(command[i + 1], command[i + 2]) for i, arg in enumerate(command) if arg == flag]


def test_the_kernel_gets_no_network_its_own_processes_and_only_its_folders_writable(tmp_path):
    command = sandbox_command(policy(tmp_path), ["python", "-m", "ipykernel_launcher"], bwrap="/usr/bin/bwrap")
    for flag in ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent", "--clearenv"):
        assert flag in command
    writable = pairs(command, "--bind")
    assert (str(tmp_path / "copy"), str(tmp_path / "work")) in writable  # the copy, seen at nbgrader's path
    assert {inside for _, inside in writable} == {"/tmp", "/dev/shm", *(str(tmp_path / n) for n in ("work", "home", "runtime"))}
    assert (sys.prefix, sys.prefix) in pairs(command, "--ro-bind")
    assert command[-3:] == ["python", "-m", "ipykernel_launcher"]


def test_only_listed_variables_reach_the_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "do-not-leak")
    command = sandbox_command(policy(tmp_path), ["python"], bwrap="/usr/bin/bwrap")
    variables = {name for name, _ in pairs(command, "--setenv")}
    assert variables == {"PATH", "HOME", "TMPDIR", "COURSE_DATA"} and "do-not-leak" not in " ".join(command)


def test_as_root_the_kernel_drops_to_its_own_user_id_and_keeps_the_process_limit(tmp_path):
    rooted = sandbox_command(policy(tmp_path, uid=201234), ["python"], bwrap="/usr/bin/bwrap")
    assert "--unshare-user" not in rooted  # a user namespace would keep uid 0, which RLIMIT_NPROC ignores
    limits = rooted[rooted.index("-c") + 2: rooted.index("--", rooted.index("-c"))]
    assert limits == ["201234", str(6 * 1024**3), "256", str(2 * 1024**3)]
    assert "--unshare-user" in sandbox_command(policy(tmp_path), ["python"], bwrap="/usr/bin/bwrap")


def test_without_bubblewrap_only_the_memory_and_file_limits_apply(tmp_path):
    command = sandbox_command(policy(tmp_path, isolate=False), ["python", "-m", "ipykernel_launcher"])
    assert command == launcher_args(policy(tmp_path, isolate=False), ["python", "-m", "ipykernel_launcher"])
    assert command[3:7] == ["-1", str(6 * 1024**3), "-1", str(2 * 1024**3)]  # no process limit outside a sandbox


def test_the_data_folder_is_the_one_helpers_reads(monkeypatch, tmp_path):
    from helpers.data import data_root as helpers_data_root

    assert data_root() == helpers_data_root()
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert data_root() == helpers_data_root() == tmp_path.resolve()


def test_a_sandbox_that_cannot_start_means_grading_without_it_after_a_warning(tmp_path, monkeypatch, capsys):
    import course.sandbox
    from course.autograde import GradeSettings
    from course.grade import checked_sandbox

    monkeypatch.setattr(course.sandbox, "bwrap_path", lambda: "/bin/false")  # installed, but refuses to work
    settings = checked_sandbox(GradeSettings(), tmp_path)
    assert settings.sandbox is False
    assert "warning: grading WITHOUT the sandbox: exit status 1" in capsys.readouterr().err
    monkeypatch.setattr(course.sandbox, "bwrap_path", lambda: None)
    assert checked_sandbox(GradeSettings(), tmp_path).sandbox is False
    assert "bubblewrap (bwrap) is not installed" in capsys.readouterr().err


def test_the_kernel_reads_the_python_installation_but_not_the_course_or_the_current_folder(tmp_path, monkeypatch):
    from course.sandbox import python_paths

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    course_root = Path(__file__).resolve().parent.parent
    monkeypatch.setattr(sys, "path", [str(downloads), str(course_root), *sys.path])
    paths = python_paths(course_root)
    assert str(downloads) not in paths and str(course_root) not in paths
    assert str(Path(sys.prefix).resolve()) in paths and str(course_root / "helpers") in paths
