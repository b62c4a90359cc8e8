"""The grading sandbox: the kernel that runs a student's notebook sees only its own folder.

Student code is untrusted, and the grader's machine holds what it must not reach: the
solved source notebooks, ``gradebook.db`` (which stores the hidden tests in clear) and the
other students' files. nbgrader starts one Jupyter kernel per notebook; this module makes
that kernel start inside bubblewrap (``bwrap``, the sandbox Flatpak uses):

- file system: the operating system and the Python environment read-only, the ``helpers``
  package read-only, the data folder read-only, and writable only the notebook's own
  working copy, a private home, /tmp and /dev/shm (all inside a scratch folder that is
  thrown away, on disk); the course root, the gradebook and other submissions do not exist in there;
- no network (an empty network namespace), its own process ids (it cannot see or signal
  the grader), a clean environment (only the variables listed below);
- limits set inside the sandbox, after it is created: processes and threads
  (``RLIMIT_NPROC``, counted per sandbox because bubblewrap gives it its own user
  namespace), memory per process (``RLIMIT_DATA``), file size (``RLIMIT_FSIZE``), no core
  dumps. As root (where ``RLIMIT_NPROC`` does not apply) the kernel also drops to an
  unprivileged user id of its own, which makes the process limit apply again;
- time: nbgrader's per-cell timeout and the whole-notebook limit of :mod:`course.execute`,
  and the grader kills the sandbox (and everything in its process namespace) at the end.

The kernel talks to nbgrader over Unix sockets in a runtime folder both can reach (TCP on
localhost would not cross the network namespace). Without ``bwrap`` the kernel runs
unsandboxed with the memory and file limits only, after a one-line warning.
"""
from __future__ import annotations

import os
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Dict

GIB = 1024**3
# The kernel gets only these variables from the grader's environment (plus PATH, HOME, TMPDIR).
PASSED_ENV = (
    "COURSE_DATA", "COURSE_DATA_DIR", "COURSE_DEVICE", "NBGRADER_EXECUTION", "CUDA_VISIBLE_DEVICES",
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "PYTHONHASHSEED", "LANG", "LC_ALL",
)
# Applies the limits, drops root if asked, then becomes the kernel. Runs inside the sandbox,
# so RLIMIT_NPROC counts only the sandbox's own processes (its user namespace is new).
LAUNCHER = (
    "import os, resource, sys\n"
    "uid, data, nproc, fsize = (int(a) for a in sys.argv[1:5])\n"
    "if uid >= 0:\n"
    "    os.setgroups([]); os.setresgid(uid, uid, uid); os.setresuid(uid, uid, uid)\n"
    "for limit, value in ((resource.RLIMIT_DATA, data), (resource.RLIMIT_NPROC, nproc),\n"
    "                     (resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_CORE, 0)):\n"
    "    try:\n"
    "        if value >= 0:\n"
    "            resource.setrlimit(limit, (value, value))\n"
    "    except (ValueError, OSError) as error:  # e.g. a hard limit already lower: keep it\n"
    "        print('sandbox: could not set limit', limit, error, file=sys.stderr)\n"
    "os.execv(sys.argv[6], sys.argv[6:])\n"
)


@dataclass(frozen=True)
class SandboxPolicy:
    """What one grading kernel may see and use. Paths are absolute strings (it travels as JSON)."""

    workdir: str  # the notebook's folder in nbgrader's course: the kernel's cwd (by this path)
    work_copy: str  # a copy of that folder, mounted at ``workdir``: what the kernel really writes to
    home: str  # a private, writable $HOME (IPython and matplotlib write there)
    tmp: str  # mounted as /tmp, on disk rather than in memory
    shm: str  # mounted as /dev/shm (semaphores: joblib and multiprocessing need it), on disk too
    runtime: str  # the connection file and the kernel's Unix sockets
    readable: tuple[str, ...] = ()  # read-only: the Python environment, helpers, data
    env: dict[str, str] = field(default_factory=dict)
    memory_bytes: int = 6 * GIB  # per process; training on full MNIST needs about 2 GiB
    max_processes: int = 256  # processes and threads; an idle kernel uses about 15
    max_file_bytes: int = 2 * GIB
    isolate: bool = True  # False: bwrap is missing, run with the limits only
    uid: int = -1  # >= 0: drop to this user id inside (the grader runs as root)

    def to_dict(self) -> dict:
        return asdict(self)


def bwrap_path() -> str | None:
    """The bubblewrap executable, or None when it is not installed."""
    return shutil.which("bwrap") or (("/usr/bin/bwrap") if Path("/usr/bin/bwrap").exists() else None)


def python_paths(course_root: Path | None = None) -> tuple[str, ...]:
    """What the kernel's Python needs to read: its installation, its package folders, helpers.

    Of sys.path only the entries inside the installation or named site-packages /
    dist-packages count: the current folder (first on sys.path under ``python -m``) may be
    a downloads folder full of other students' files. Nothing that is the course root or
    above it is bound; ``helpers`` is bound on its own.
    """
    import helpers

    prefixes = {Path(p).resolve() for p in (sys.base_prefix, sys.prefix)}
    paths = {Path(p).resolve() for p in sys.path if p and Path(p).is_absolute() and Path(p).exists()}
    packages = {p for p in paths if p.name in ("site-packages", "dist-packages") or any(x in p.parents for x in prefixes)}
    hidden = course_root.resolve() if course_root else None
    keep = {p for p in packages | prefixes if hidden is None or not (p == hidden or p in hidden.parents)}
    return tuple(sorted({str(p) for p in keep} | {str(Path(helpers.__file__).resolve().parent)}))


def system_binds() -> list[str]:
    """Read-only views of the operating system: /usr, /etc and the top-level links into /usr."""
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if Path(name).is_symlink():
            args += ["--symlink", os.readlink(name), name]
        elif Path(name).is_dir():
            args += ["--ro-bind", name, name]
    # torch reads the CPU topology here; without it it prints errors at import
    return args + ["--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]


def gpu_binds() -> list[str]:
    """The NVIDIA device files, when there are any (CUDA kernels need them)."""
    devices = sorted(str(p) for p in Path("/dev").glob("nvidia*") if not p.is_dir())
    return [arg for device in devices for arg in ("--dev-bind", device, device)]


def readable_binds(paths: tuple[str, ...]) -> list[str]:
    """Read-only binds, parents first; paths already inside /usr need none."""
    args: list[str] = []
    for path in sorted(set(paths), key=lambda p: (len(Path(p).parts), p)):
        if not path.startswith("/usr/") and Path(path).exists():
            args += ["--ro-bind", path, path]
    return args


def parent_dirs(paths: list[str]) -> list[str]:
    """Create the folders above each bind point world-traversable (bwrap would make them 0700,
    which hides e.g. a Python under /root from the unprivileged kernel)."""
    parents = {str(parent) for path in paths for parent in Path(path).parents if str(parent) != "/"}
    parents = {p for p in parents if not (p == "/usr" or p.startswith("/usr/"))}
    ordered = sorted(parents, key=lambda p: (len(Path(p).parts), p))
    return [arg for parent in ordered for arg in ("--perms", "0755", "--dir", parent)]


def namespace_args(as_root: bool) -> list[str]:
    """New namespaces. As root, no user namespace: the kernel drops to a real unprivileged uid."""
    common = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    return ["--die-with-parent", *common] + ([] if as_root else ["--unshare-user"])


def environment_args(policy: SandboxPolicy) -> list[str]:
    """A clean environment: PATH, HOME, TMPDIR and the passed-through variables."""
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
           "HOME": policy.home, "TMPDIR": "/tmp", **policy.env}
    return ["--clearenv"] + [arg for key, value in sorted(env.items()) for arg in ("--setenv", key, value)]


def launcher_args(policy: SandboxPolicy, kernel: list[str]) -> list[str]:
    """``python -c LAUNCHER <limits> -- <kernel command>``."""
    nproc = policy.max_processes if policy.isolate else -1  # outside a sandbox it would count all our processes
    limits = [policy.uid, policy.memory_bytes, nproc, policy.max_file_bytes]
    return [sys.executable, "-c", LAUNCHER, *map(str, limits), "--", *kernel]


def sandbox_command(policy: SandboxPolicy, kernel: list[str], bwrap: str | None = None) -> list[str]:
    """The command that starts ``kernel`` inside the sandbox the policy describes."""
    if not policy.isolate:
        return launcher_args(policy, kernel)
    bwrap = bwrap or bwrap_path() or "bwrap"
    writable = [(policy.work_copy, policy.workdir), (policy.home, policy.home), (policy.runtime, policy.runtime)]
    return [
        bwrap, *namespace_args(policy.uid >= 0), *system_binds(),
        "--proc", "/proc", "--dev", "/dev", *gpu_binds(), "--bind", policy.tmp, "/tmp", "--bind", policy.shm, "/dev/shm",
        *parent_dirs([*policy.readable, *(inside for _, inside in writable)]),
        *readable_binds(policy.readable),
        *[arg for host, inside in writable for arg in ("--bind", host, inside)],
        "--chdir", policy.workdir, *environment_args(policy),
        "--", *launcher_args(policy, kernel),
    ]


def prepare_work_copy(policy: SandboxPolicy) -> None:
    """Copy the notebook's folder to the folder the kernel will write in.

    The kernel never writes where nbgrader (running outside, possibly as root) writes the
    graded notebook afterwards: a symlink planted there would make the grader overwrite a
    file of the kernel's choosing.
    """
    if not policy.isolate:  # unsandboxed, the kernel runs in nbgrader's folder itself
        return
    work_copy = Path(policy.work_copy)
    if work_copy.exists():
        shutil.rmtree(work_copy)
    shutil.copytree(policy.workdir, work_copy, symlinks=True)


def probe(scratch: Path, course_root: Path | None = None) -> str | None:
    """Start a trivial process in the sandbox; returns why it failed, or None when it works.

    bubblewrap can be installed and still not work (unprivileged user namespaces disabled,
    as on some hardened distributions): better to know before grading a whole class.
    """
    import subprocess

    folders = {name: scratch / name for name in ("work", "copy", "home", "tmp", "shm", "runtime")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    uid = 200_000 + os.getpid() % 100_000 if os.geteuid() == 0 else -1
    policy = SandboxPolicy(*(str(folders[n]) for n in ("work", "copy", "home", "tmp", "shm", "runtime")),
                           readable=python_paths(course_root), uid=uid)
    prepare_work_copy(policy)
    hand_over([Path(p) for p in (policy.work_copy, policy.home, policy.tmp, policy.shm, policy.runtime)], uid)
    done = subprocess.run(sandbox_command(policy, [sys.executable, "-c", "import helpers, ipykernel, torch"]),
                          capture_output=True, text=True, timeout=60)
    return None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["exit status %d" % done.returncode])[-1]


def hand_over(paths: list[Path], uid: int) -> None:
    """Give the kernel's user id ownership of its writable folders (root grading only)."""
    if uid < 0:
        return
    for top in paths:
        for path in [top, *top.rglob("*")]:
            os.chown(path, uid, uid, follow_symlinks=False)


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager that starts the Python kernel inside the sandbox of ``policy``.

    It ignores the notebook's kernelspec: the kernel is always this environment's
    ipykernel, so a submission cannot choose another interpreter. Interrupts (on a cell
    timeout) go as a message, which the kernel turns into SIGINT for itself inside.
    """

    policy = Dict(help="SandboxPolicy.to_dict() of the kernel's sandbox").tag(config=True)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        policy = SandboxPolicy(**{**self.policy, "readable": tuple(self.policy.get("readable", ()))})
        connection_file = os.path.realpath(self.connection_file)
        prepare_work_copy(policy)
        hand_over([Path(p) for p in (policy.work_copy, policy.home, policy.tmp, policy.shm, policy.runtime)], policy.uid)
        kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file, *(extra_arguments or [])]
        return sandbox_command(policy, kernel)

    async def interrupt_kernel(self) -> None:
        if not self.has_kernel:
            raise RuntimeError("Cannot interrupt kernel. No kernel is running!")
        self._connect_control_socket()
        self.session.send(self._control_socket, self.session.msg("interrupt_request", content={}))

    _async_interrupt_kernel = interrupt_kernel
