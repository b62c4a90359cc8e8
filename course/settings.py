"""How submissions are graded: every default and limit of ``course grade``, defined once.

The command line (``course grade --help``), the worker processes, the Dask workers and the
fairness harness all read their defaults from here.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

DEVICES = ("cpu", "cuda")
# Scored on the CPU unless the instructor asks for CUDA: the hidden tests' thresholds were
# measured on the CPU, and the sandbox's address-space limit (--memory) is smaller than what
# CUDA reserves when it starts, so a CUDA kernel under it fails on its first tensor.
DEFAULT_DEVICE = "cpu"
DEFAULT_JOBS = 1  # submissions graded at once by `course grade` (`course all`: up to 2)
STARTUP_ALLOWANCE = 300  # s on top of the notebook limit: imports, kernel start, feedback
# Unix socket paths hold at most 107 bytes (108 with the final NUL), and the kernel's IPC
# sockets live in the scratch course: "<scratch root>/<task>/runtime/kernel-<port>".
SOCKET_PATH_LIMIT = 107
SOCKET_SUFFIX = "/t000000/runtime/kernel-65535"  # the longest name a task adds to the scratch root


@dataclass(frozen=True)
class GradeSettings:
    """How a submission is executed. The same settings give the same grades, whatever --jobs is."""

    cell_timeout: int = 600  # s; the longest training cell takes ~40 s on 2 CPU cores with mnist5k
    notebook_timeout: int = 1800  # s for all cells together
    threads: int = 1  # torch/OpenMP threads per kernel: fixed, so results do not depend on --jobs
    data: str = "mnist5k"  # COURSE_DATA in the kernel; the sandbox has no network anyway
    memory_gib: float = 6.0  # per process in the kernel; 0 or less: no limit
    max_processes: int = 256  # processes and threads in one sandbox
    disk_mib: int = 512  # what the kernel may write in all (its folder, home, /tmp); the notebooks write < 10 MiB
    cpu_seconds: int = 3600  # CPU time per kernel process; mnist5k notebooks use < 2 min, full data < 15
    sandbox: bool = True  # False: no bubblewrap even when installed (not recommended)
    device: str = DEFAULT_DEVICE  # COURSE_DEVICE in the kernel: "cpu" hides every GPU from it
    feedback: str = "visible"  # "visible": no hidden test code in the feedback (course.feedback); "full": nbgrader's

    @property
    def worker_timeout(self) -> float:
        """Seconds after which a grading process is killed, kernel and sandbox included."""
        return self.notebook_timeout + STARTUP_ALLOWANCE

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "GradeSettings":
        return cls(**json.loads(text))
