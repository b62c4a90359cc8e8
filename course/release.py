"""``course release``: the student notebooks in release/, from the solved ones in source_notebooks/.

nbgrader's generate_assignment does the real work (solutions replaced by ``# YOUR CODE
HERE``, hidden tests removed, test cells locked, checksums). It runs in a scratch course,
so releasing touches neither the course's gradebook nor anything but release/<assignment>/.
Then each notebook gets what Colab needs:

1. a first markdown cell with an "Open in Colab" badge for the notebook's own path in the
   course repository (``[tool.course]`` repository and branch);
2. a setup cell, just before the first code cell, that installs the course package from
   that repository when the notebook runs in Colab and does nothing anywhere else;
3. Colab's notebook metadata, with a GPU hint when the notebook trains a model.

The result is deterministic (cell ids come from the source notebook or from the cell's
place, JSON is written with sorted keys), so ``course check`` can compare bytes.
"""
from __future__ import annotations

import copy
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course.config import CourseConfig
from course.notebooks import notebook_bytes, read_notebook

BADGE_ID = "colab-badge"
SETUP_ID = "colab-setup"
COLAB = "https://colab.research.google.com"


def colab_url(config: CourseConfig, assignment: str, notebook: str) -> str:
    """The Colab link of release/<assignment>/<notebook> on the course's GitHub branch."""
    return f"{COLAB}/github/{config.repository}/blob/{config.branch}/release/{assignment}/{notebook}"


def badge_cell(url: str) -> NotebookNode:
    """The first cell: an "Open in Colab" badge."""
    cell = nbformat.v4.new_markdown_cell(f"[![Open In Colab]({COLAB}/assets/colab-badge.svg)]({url})")
    cell.id = BADGE_ID
    return cell


def install_spec(config: CourseConfig) -> str:
    """What pip installs on Colab: the course package straight from its repository."""
    return f"{config.distribution} @ git+https://github.com/{config.repository}@{config.branch}"


def setup_cell(config: CourseConfig) -> NotebookNode:
    """The Colab-only install cell. Colab's torch already satisfies the course's lower bounds,
    and pip's only-if-needed strategy keeps it (no 2 GB reinstall)."""
    source = (
        "# On Google Colab: install the course's helpers package (Colab's own torch is kept).\n"
        "# Anywhere else this cell does nothing: run `make lab`, or `pip install -e .`, instead.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import importlib\n"
        "    import subprocess\n"
        "\n"
        '    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--upgrade-strategy", "only-if-needed",\n'
        f'                    "{install_spec(config)}"], check=True)\n'
        "    importlib.invalidate_caches()  # make the freshly installed package importable now"
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.id = SETUP_ID
    return cell


def wants_gpu(notebook: NotebookNode) -> bool:
    """Whether Colab should offer a GPU: the source says so (metadata course.gpu), or it trains."""
    choice = notebook.metadata.get("course", {}).get("gpu")
    if choice is not None:
        return bool(choice)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    return "fit(" in code or ".backward(" in code


def colab_metadata(notebook: NotebookNode) -> dict:
    """The notebook metadata Colab reads (and writes back when a student saves)."""
    colab = {"provenance": [], "toc_visible": True}
    if wants_gpu(notebook):
        return {"accelerator": "GPU", "colab": {**colab, "gpuType": "T4"}}
    return {"colab": colab}


def stable_ids(release: NotebookNode, source_path: Path, assignment: str) -> None:
    """Give every cell the id of its source cell, or one derived from its place when there is none."""
    source_cells = json.loads(source_path.read_text())["cells"]
    same_cells = len(source_cells) == len(release.cells)
    release.nbformat_minor = max(release.get("nbformat_minor", 0), 5)  # cell ids need nbformat 4.5
    for index, cell in enumerate(release.cells):
        given = source_cells[index].get("id") if same_cells else None
        cell.id = given or hashlib.sha1(f"{assignment}/{index}".encode()).hexdigest()[:12]


def add_colab(release: NotebookNode, config: CourseConfig, assignment: str, name: str) -> NotebookNode:
    """The released notebook with the badge, the Colab setup cell and Colab's metadata."""
    notebook = copy.deepcopy(release)
    first_code = next((i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"), len(notebook.cells))
    notebook.cells.insert(first_code, setup_cell(config))
    notebook.cells.insert(0, badge_cell(colab_url(config, assignment, name)))
    notebook.metadata.update(colab_metadata(notebook))
    return notebook


def generate(config: CourseConfig, assignment: str, scratch: Path) -> Path:
    """nbgrader generate_assignment in a scratch course; returns its release/<assignment> folder."""
    from course.nbgrader_api import course_config, generate_assignment

    shutil.copytree(config.source / assignment, scratch / "source" / assignment)
    generate_assignment(course_config(scratch), assignment)
    return scratch / "release" / assignment


def colab_release(config: CourseConfig, assignment: str, generated: Path) -> dict[str, bytes]:
    """nbgrader's release folder ``generated`` with the Colab cells added: relative path -> bytes."""
    files = {}
    for path in sorted(p for p in generated.rglob("*") if p.is_file()):
        relative = path.relative_to(generated).as_posix()
        if path.suffix == ".ipynb":
            notebook = read_notebook(path)
            stable_ids(notebook, config.source / assignment / relative, assignment)
            files[relative] = notebook_bytes(add_colab(notebook, config, assignment, relative))
        else:
            files[relative] = path.read_bytes()
    return files


def release_files(config: CourseConfig, assignment: str) -> dict[str, bytes]:
    """What release/<assignment>/ should contain now: relative path -> bytes."""
    with tempfile.TemporaryDirectory(prefix="course-release-") as tmp:
        return colab_release(config, assignment, generate(config, assignment, Path(tmp)))


def write_release(config: CourseConfig, assignment: str, files: dict[str, bytes]) -> None:
    """Replace release/<assignment>/ with ``files`` (stale files disappear)."""
    folder = config.release / assignment
    if folder.exists():
        shutil.rmtree(folder)
    for relative, data in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(data)
