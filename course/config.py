"""Where the course lives and what the instructor set once in pyproject.toml's ``[tool.course]``.

    [project]
    name = "autoencoder-course"            # the distribution Colab installs

    [tool.course]
    repository = "owner/name"              # on GitHub: the Colab links and the install point here
    branch = "main"
    # optional: how LMS download file names carry the student id (see course.collect)
    submission_pattern = '^(?P<student>[^_]+)_.*\\.ipynb$'
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CourseConfig:
    """The course root and its settings; every folder below is inside ``root``."""

    root: Path
    repository: str
    branch: str
    distribution: str
    submission_pattern: str | None = None

    @property
    def source(self) -> Path:
        return self.root / "source_notebooks"

    @property
    def release(self) -> Path:
        return self.root / "release"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def assignments(self) -> list[str]:
        """The assignments: folders of source_notebooks/ holding a notebook, sorted."""
        if not self.source.is_dir():
            return []
        return sorted(p.name for p in self.source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` whose pyproject.toml has a [tool.course] table."""
    for folder in [start, *start.parents]:
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "course" in tomllib.loads(pyproject.read_text()).get("tool", {}):
            return folder
    raise FileNotFoundError(
        f"no pyproject.toml with a [tool.course] table at or above {start}: "
        "run this from the course folder or pass --root")


def load_config(root: Path | None = None) -> CourseConfig:
    """Read ``[tool.course]`` from the course root (given, $COURSE_ROOT, or found from the cwd)."""
    root = (root or (Path(os.environ["COURSE_ROOT"]) if os.environ.get("COURSE_ROOT") else None)
            or find_root(Path.cwd())).resolve()
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    table = pyproject.get("tool", {}).get("course", {})
    missing = [key for key in ("repository", "branch") if not table.get(key)]
    if missing:
        raise ValueError(f"{root / 'pyproject.toml'}: [tool.course] needs {' and '.join(missing)}")
    return CourseConfig(
        root=root, repository=table["repository"], branch=table["branch"],
        distribution=pyproject.get("project", {}).get("name", "autoencoder-course"),
        submission_pattern=table.get("submission_pattern"),
    )
