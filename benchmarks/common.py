"""What every benchmark section shares: the machine it ran on, progress lines, result files, tables."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent
RESULTS = BENCHMARKS / "results"
CHARTS = BENCHMARKS / "charts"
NOT_MEASURED_GPU = "not measured (no CUDA GPU in this run)"

if str(ROOT) not in sys.path:  # the scripts run as files; the course's helpers live at the root
    sys.path.insert(0, str(ROOT))


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (platform.processor() is empty on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """The machine and software the numbers were measured on (absolute times mean nothing without it)."""
    import torch

    cuda = torch.cuda.is_available()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "load_average": round(os.getloadavg()[0], 2),  # other jobs on the CPU: what makes absolute times noisy
    }


def git_commit() -> str:
    """The commit of the checkout (with '+changes' when the work tree differs from it)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return commit + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def say(message: str) -> None:
    """A progress line with the time of day: the long steps take minutes on a 2-core CPU."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def save(name: str, result: dict, out: Path = RESULTS) -> Path:
    """Write one section's result as results/bench-<name>.json (RESULTS.md is rendered from these)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-{name}.json"
    path.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    return path


def load(name: str, out: Path = RESULTS) -> dict | None:
    path = out / f"bench-{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def table(header: list[str], rows: list[list[object]]) -> str:
    """A markdown table; None cells print as an em dash."""
    def cell(value: object) -> str:
        return "—" if value is None else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
