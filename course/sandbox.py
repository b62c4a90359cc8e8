"""The grading sandbox: the kernel that runs a student's notebook sees only its own folder.

Student code is untrusted, and the grader's machine holds what it must not reach: the
solved source notebooks, ``gradebook.db`` (which stores the hidden tests in clear) and the
other students' files. nbgrader starts one Jupyter kernel per notebook; this module makes
that kernel start inside bubblewrap (``bwrap``, the sandbox Flatpak uses):

- file system: the operating system and the Python environment read-only, the ``helpers``
  package read-only, the data folder read-only; writable only a size-limited in-memory
  file system at /tmp (``/tmp/work``: a copy of the notebook's folder, the kernel's
  current folder; ``/tmp/home``: its home) and a small /dev/shm. The rest of the root is
  read-only; the course root, the gradebook and other submissions do not exist in there.
  All of it vanishes with the sandbox;
- no network (an empty network namespace), its own process ids (it cannot see or signal
  the grader; when the kernel ends, every process it started is killed with the
  namespace), a clean environment (only the variables listed below);
- limits set inside the sandbox, after it is created: processes and threads
  (``RLIMIT_NPROC``, counted per sandbox because bubblewrap gives it its own user
  namespace), memory per process (``RLIMIT_DATA``), CPU seconds per process
  (``RLIMIT_CPU``), file size (``RLIMIT_FSIZE``, the disk limit), no core dumps. As root
  (where ``RLIMIT_NPROC`` does not apply) the kernel also drops to an unprivileged user id
  of its own, which makes the process limit apply again;
- time: nbgrader's per-cell timeout and the whole-notebook limit of :mod:`course.execute`,
  and the grader kills the sandbox (and everything in its process namespace) at the end.

The kernel talks to nbgrader over Unix sockets in a runtime folder both can reach (TCP on
localhost would not cross the network namespace). Once the kernel has made its sockets,
:meth:`SandboxKernelManager.lock_runtime` takes away its right to write there (as root).
Without ``bwrap`` (``course grade --no-sandbox``) the kernel runs unsandboxed with the
memory, CPU and file limits only.
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
MIB = 1024**2
INSIDE = "/tmp"  # the writable, size-limited file system inside the sandbox (where programs expect it)
WORK, HOME = f"{INSIDE}/work", f"{INSIDE}/home"  # the kernel's current folder and home
SUBMISSION = "/submission"  # the notebook's folder, read-only: copied to WORK
HOME_TEMPLATE = "/home-template"  # the prepared home (matplotlib's font list): copied to HOME
SHM_BYTES = 64 * MIB  # /dev/shm holds semaphores (joblib, multiprocessing), nothing large
# The kernel gets only these variables from the grader's environment (plus PATH, HOME, TMPDIR).
PASSED_ENV = (
    "COURSE_DATA", "COURSE_DATA_DIR", "COURSE_DEVICE", "NBGRADER_EXECUTION", "CUDA_VISIBLE_DEVICES",
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "PYTHONHASHSEED", "LANG", "LC_ALL",
)
# Runs first inside the sandbox (as root when the grader is root): fills /tmp, drops to
# the kernel's user id, applies the limits, then becomes the kernel. RLIMIT_NPROC counts
# only the sandbox's own processes (its user namespace, or its user id, is its own).
LAUNCHER = (
    "import os, resource, shutil, sys\n"
    "uid, data, nproc, fsize, cpu, setup = (int(a) for a in sys.argv[1:7])\n"
    "for source, target in ((%(submission)r, %(work)r), (%(home)r, %(home_inside)r)) if setup else ():\n"
    "    shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)\n"
    "    for top, folders, files in os.walk(target):\n"
    "        for name in [top] + [os.path.join(top, n) for n in folders + files]:\n"
    "            os.lchown(name, uid, uid) if uid >= 0 else None\n"
    "if uid >= 0:\n"
    "    os.setgroups([]); os.setresgid(uid, uid, uid); os.setresuid(uid, uid, uid)\n"
    "for limit, value in ((resource.RLIMIT_DATA, data), (resource.RLIMIT_NPROC, nproc),\n"
    "                     (resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_CPU, cpu), (resource.RLIMIT_CORE, 0)):\n"
    "    try:\n"
    "        if value >= 0:\n"
    "            resource.setrlimit(limit, (value, value))\n"
    "    except (ValueError, OSError) as error:  # e.g. a hard limit already lower: keep it\n"
    "        print('sandbox: could not set limit', limit, error, file=sys.stderr)\n"
    "os.execv(sys.argv[8], sys.argv[8:])\n"
) % {"submission": SUBMISSION, "work": WORK, "home": HOME_TEMPLATE, "home_inside": HOME}


@dataclass(frozen=True)
class SandboxPolicy:
    """What one grading kernel may see and use. Paths are absolute strings (it travels as JSON)."""

    workdir: str  # the notebook's folder in nbgrader's course: copied (read-only source) to /sandbox/work
    home: str  # a prepared home folder (matplotlib's font list): copied to /sandbox/home
    runtime: str  # the connection file and the kernel's Unix sockets
    readable: tuple[str, ...] = ()  # read-only: the Python environment, helpers, data
    env: dict[str, str] = field(default_factory=dict)
    memory_bytes: int = 6 * GIB  # per process; training on full MNIST needs about 2 GiB
    max_processes: int = 256  # processes and threads; an idle kernel uses about 15
    disk_bytes: int = 512 * MIB  # /tmp in all (work and home included), and the largest file anywhere
    cpu_seconds: int = 3600  # per process; a whole notebook on full data needs about 15 minutes
    isolate: bool = True  # False: bwrap is missing, run with the limits only
    uid: int = -1  # >= 0: drop to this user id inside (the grader runs as root)

    def to_dict(self) -> dict:
        return asdict(self)


def bwrap_path() -> str | None:
    """The bubblewrap executable, or None when it is not installed."""
    return shutil.which("bwrap") or (("/usr/bin/bwrap") if Path("/usr/bin/bwrap").exists() else None)


def python_paths(hidden: tuple[str | Path, ...] = ()) -> tuple[str, ...]:
    """What the kernel's Python needs to read: its installation, its package folders, helpers.

    Of sys.path only the entries inside the installation or named site-packages /
    dist-packages count: the current folder (first on sys.path under ``python -m``) may be
    a downloads folder full of other students' files. Nothing that is one of the ``hidden``
    folders (the course roots) or above one is bound; ``helpers`` is bound on its own.
    """
    import helpers

    prefixes = {Path(p).resolve() for p in (sys.base_prefix, sys.prefix)}
    paths = {Path(p).resolve() for p in sys.path if p and Path(p).is_absolute() and Path(p).exists()}
    packages = {p for p in paths if p.name in ("site-packages", "dist-packages") or any(x in p.parents for x in prefixes)}
    secret = {Path(h).resolve() for h in hidden}
    keep = {p for p in packages | prefixes if not any(p == h or p in h.parents for h in secret)}
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
           "HOME": HOME, "TMPDIR": INSIDE, **policy.env}
    return ["--clearenv"] + [arg for key, value in sorted(env.items()) for arg in ("--setenv", key, value)]


def launcher_args(policy: SandboxPolicy, kernel: list[str]) -> list[str]:
    """``python -c LAUNCHER <limits> <setup> -- <kernel command>``."""
    nproc = policy.max_processes if policy.isolate else -1  # outside a sandbox it would count all our processes
    limits = [policy.uid, policy.memory_bytes, nproc, policy.disk_bytes, policy.cpu_seconds, int(policy.isolate)]
    return [sys.executable, "-c", LAUNCHER, *map(str, limits), "--", *kernel]


def writable_args(policy: SandboxPolicy) -> list[str]:
    """/tmp in memory and size-limited (work and home inside it), a small /dev/shm, the two read-only sources."""
    return [
        "--perms", "1777", "--size", str(min(SHM_BYTES, policy.disk_bytes)), "--tmpfs", "/dev/shm",
        "--perms", "1777", "--size", str(policy.disk_bytes), "--tmpfs", INSIDE, "--dir", WORK,
        "--ro-bind", policy.workdir, SUBMISSION, "--ro-bind", policy.home, HOME_TEMPLATE,
    ]


def sandbox_command(policy: SandboxPolicy, kernel: list[str], bwrap: str | None = None) -> list[str]:
    """The command that starts ``kernel`` inside the sandbox the policy describes.

    Order matters: /tmp is mounted before the folders above the bind points are made (the
    runtime folder of a grader usually lives under /tmp too), and the root is made
    read-only last.
    """
    if not policy.isolate:  # the same variables (data, one thread...) as in the sandbox, over the grader's
        return ["env", *[f"{key}={value}" for key, value in sorted(policy.env.items())], *launcher_args(policy, kernel)]
    bwrap = bwrap or bwrap_path() or "bwrap"
    return [
        bwrap, *namespace_args(policy.uid >= 0), *system_binds(), "--proc", "/proc", "--dev", "/dev", *gpu_binds(),
        *writable_args(policy), *parent_dirs([*policy.readable, policy.runtime]), *readable_binds(policy.readable),
        "--bind", policy.runtime, policy.runtime,
        "--remount-ro", "/",  # the root itself (an unlimited tmpfs) becomes read-only; the mounts above stay as set
        "--chdir", WORK, *environment_args(policy),
        "--", *launcher_args(policy, kernel),
    ]


def probe(scratch: Path, hidden: tuple[str | Path, ...] = ()) -> str | None:
    """Start a trivial process in the sandbox; returns why it failed, or None when it works.

    bubblewrap can be installed and still not work (unprivileged user namespaces disabled,
    as on some hardened distributions): better to know before grading a whole class.
    """
    import subprocess

    folders = {name: scratch / name for name in ("work", "home", "runtime")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    uid = 200_000 + os.getpid() % 100_000 if os.geteuid() == 0 else -1
    policy = SandboxPolicy(*(str(folders[n]) for n in ("work", "home", "runtime")),
                           readable=python_paths(hidden), uid=uid)
    hand_over(Path(policy.runtime), uid)
    done = subprocess.run(sandbox_command(policy, [sys.executable, "-c", "import helpers, ipykernel, torch"]),
                          capture_output=True, text=True, timeout=60)
    return None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["exit status %d" % done.returncode])[-1]


def hand_over(folder: Path, uid: int) -> None:
    """Let the kernel's user id read its connection file and make its sockets (root grading only)."""
    if uid >= 0:
        for path in [folder, *folder.iterdir()]:
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
        hand_over(Path(policy.runtime), policy.uid)
        kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file, *(extra_arguments or [])]
        return sandbox_command(policy, kernel)

    def lock_runtime(self) -> None:
        """Once the kernel has made its sockets: no more files from it in the runtime folder.

        The runtime folder is the one writable place outside /sandbox's size limit. As
        root the kernel has its own user id, and giving the folder back to root closes it;
        without root the kernel's user is the grader's, and the file size limit is all.
        """
        if self.policy.get("uid", -1) >= 0 and self.policy.get("isolate", True):
            os.chown(self.policy["runtime"], 0, 0)
            os.chmod(self.policy["runtime"], 0o755)

    async def interrupt_kernel(self) -> None:
        if not self.has_kernel:
            raise RuntimeError("Cannot interrupt kernel. No kernel is running!")
        self._connect_control_socket()
        self.session.send(self._control_socket, self.session.msg("interrupt_request", content={}))

    _async_interrupt_kernel = interrupt_kernel
