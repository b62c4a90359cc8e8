"""The GPU kit: what `prepare` packs here and `run` unpacks on the lent GPU machine, in one place.

The GPU machine has PyTorch, NumPy, SciPy, scikit-learn and matplotlib but no network, and
at most 64 MiB travel with the working tree. The kit folder (git-ignored) holds the wheels
it lacks, the full-size data set and bubblewrap's binary, and may not exceed 60 MiB.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Mapping

GPU = Path(__file__).resolve().parent
ROOT = GPU.parent.parent
KIT = GPU / "kit"  # git-ignored (.gitignore): wheels, data and bubblewrap
LIMIT_MIB = 60  # of the 64 MiB that travel with the working tree, leave room for the repository itself
PYTHON_VERSION = "3.12"  # the GPU machine's python3 (/opt/torch/.venv, Python 3.12.3 when last seen)
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "manylinux_2_5_x86_64", "manylinux1_x86_64", "any")

# What the course imports there and the machine's image lacks (its package list is in the device
# docs): found by running `course examples`, `course grade` and the notebooks with
# PYTHONPROFILEIMPORTTIME=1, mapping the imported modules to distributions and removing those the
# image has. Versions are this environment's own (prepare pins them), so both sides run the same code.
WHEELS = (
    # notebooks: the kernel and the client that runs it
    "ipykernel", "ipython", "ipython-pygments-lexers", "comm", "matplotlib-inline", "nest-asyncio2",
    "jupyter-client", "jupyter-core", "pyzmq", "tornado", "traitlets", "platformdirs", "pexpect", "ptyprocess", "prompt-toolkit", "wcwidth", "stack-data", "asttokens", "executing",
    "pure-eval", "nbclient", "nbformat", "fastjsonschema", "jsonschema", "jsonschema-specifications",
    "referencing", "rpds-py",
    # the notebooks' own imports beyond torch and friends
    "plotly", "mlxtend",
    # grading: nbgrader and what its autograde, feedback and gradebook import
    "nbgrader", "nbconvert", "mistune", "bleach", "tinycss2", "webencodings", "defusedxml", "pandocfilters",
    "jupyterlab-pygments", "beautifulsoup4", "soupsieve", "sqlalchemy", "greenlet", "alembic", "mako",
    "rapidfuzz", "python-json-logger", "jupyter-server",
)
# Left out: debugpy and jedi (ipykernel and IPython import them only if present: the debugger and
# tab completion, 10 MiB together), notebook (nbconvert imports it only if present, 14 MiB).
# Inside a wheel, folders no run needs: nbgrader ships its documentation (10 MiB) and tests.
SLIM = {"nbgrader": ("nbgrader/docs/", "nbgrader/tests/")}
DATA_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
              "t10k-labels-idx1-ubyte.gz")


@dataclass(frozen=True)
class Manifest:
    """What a prepared kit holds: wheel files, data files and the bubblewrap binary (paths inside the kit)."""

    wheels: tuple[str, ...]
    pinned: tuple[str, ...]  # name==version, as asked of pip
    data: tuple[str, ...]
    bwrap: str | None
    size_bytes: int
    dry_run: bool

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping) -> "Manifest":
        return cls(**{**data, **{k: tuple(data[k]) for k in ("wheels", "pinned", "data")}})

    def write(self, kit: Path) -> Path:
        path = kit / "manifest.json"
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n")
        return path

    @classmethod
    def read(cls, kit: Path) -> "Manifest":
        path = kit / "manifest.json"
        if not path.is_file():
            raise SystemExit(f"no GPU kit in {kit}: run benchmarks/gpu/prepare here first (it needs the package registry)")
        return cls.from_json(json.loads(path.read_text()))


def folder_size(path: Path) -> int:
    """Bytes of all the files under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def data_dir(kit: Path) -> Path:
    """The kit's data root in the layout helpers.data reads (``$COURSE_DATA_DIR/FashionMNIST/raw``)."""
    return kit / "data"
