"""Grade one submitted notebook with nbgrader, in a scratch course of its own, in the sandbox.

This is the unit of grading: a notebook in, points per grade cell out (plus the
autograded notebook, the feedback HTML and whatever needs the instructor's attention).
``course grade`` runs it once per submission in a separate process (forked from a server
that imported nbgrader once; ``python -m course.autograde SPEC.json`` does the same by
hand), several at a time, and imports the results into the course gradebook with a single
writer; the fairness harness can call :func:`grade_notebook` directly.

Each submission gets a scratch nbgrader course: ``source/<assignment>/`` (copied from the
course), a copy of a template gradebook that ``generate_assignment`` filled once per
assignment, and ``submitted/<student>/<assignment>/<notebook>.ipynb``. nbgrader's own
converters do the work (autograde restores the test cells and scores them,
generate_feedback writes the HTML); this module only configures them: the sandboxed
kernel (:mod:`course.sandbox`), the timeouts (:mod:`course.execute`), one torch thread.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from course.notebooks import read_notebook

# Error names in an autograded notebook that the instructor should hear about, and why.
EXECUTION_PROBLEMS = {
    "DeadKernelError": "the kernel died (a crash, os._exit, or the memory or CPU-time limit)",
    "CellTimeoutError": "a cell ran past the per-cell time limit",
    "NotebookTimeoutError": "the notebook ran past its time limit",
    "MemoryError": "ran out of memory (the per-process limit)",
    "GradingStateError": "the grader could not put the kernel's state back before a test (tampering?)",
}


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


@dataclass
class GradeResult:
    """What grading one notebook produced. ``points`` is None when nbgrader could not score it."""

    student: str
    assignment: str
    notebook: str
    points: dict[str, float] | None = None  # grade id -> points scored
    max_points: dict[str, float] = field(default_factory=dict)
    attention: list[str] = field(default_factory=list)  # reasons the instructor should look
    autograded: str | None = None  # the executed notebook, in the scratch course
    feedback: str | None = None  # the feedback HTML, in the scratch course
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum((self.points or {}).values())

    @property
    def max_score(self) -> float:
        return sum(self.max_points.values())

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "GradeResult":
        return cls(**json.loads(text))


def ensure_tools_on_path() -> None:
    """nbgrader runs ``alembic`` by name: put this environment's scripts first on PATH."""
    scripts = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != scripts:
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def scratch_config(scratch: Path, settings: GradeSettings, policy: dict, imports: str = ""):
    """nbgrader configuration for a scratch course at ``scratch`` with the sandboxed Execute.

    ``imports``: the release notebook's import statements, which the guard re-binds
    before every test (see course.execute).
    """
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute
    from traitlets.config import Config

    from course.execute import CourseExecute

    c = Config()
    c.CourseDirectory.root = str(scratch)
    c.CourseDirectory.source_directory = "source"
    c.CourseDirectory.release_directory = "release"
    c.CourseDirectory.db_url = f"sqlite:///{scratch / 'gradebook.db'}"
    c.Execute.timeout = settings.cell_timeout
    c.Execute.kernel_name = "python3"
    c.CourseExecute.notebook_timeout = settings.notebook_timeout
    c.CourseExecute.guard_imports = imports
    c.SandboxKernelManager.policy = policy
    c.SandboxKernelManager.transport = "ipc"  # Unix sockets: TCP would not cross the empty network namespace
    c.SandboxKernelManager.ip = str(Path(policy["runtime"]) / "kernel")
    c.SandboxKernelManager.connection_file = str(Path(policy["runtime"]) / "kernel.json")
    steps = Autograde.class_traits()["autograde_preprocessors"].default()
    c.Autograde.autograde_preprocessors = [CourseExecute if step is Execute else step for step in steps]
    return c


def prepare_template(source_assignment: Path, template: Path) -> Path:
    """A scratch course whose gradebook knows the assignment (nbgrader generate_assignment)."""
    from nbgrader.apps import NbGraderAPI

    assignment = source_assignment.name
    if template.exists():
        shutil.rmtree(template)
    shutil.copytree(source_assignment, template / "source" / assignment)
    ensure_tools_on_path()
    api = NbGraderAPI(config=scratch_config(template, GradeSettings(), {"runtime": str(template)}))
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader generate_assignment failed for {assignment}:\n{nbgrader_log(result)[-3000:]}")
    return template / "gradebook.db"


def data_root() -> Path:
    """Where helpers looks for MNIST on disk (read-only inside the sandbox).

    The rule of ``helpers.data.data_root`` (a test keeps them equal), repeated here because
    importing helpers.data imports torch: four seconds for every submission graded.
    """
    return Path(os.environ.get("COURSE_DATA_DIR") or Path.home() / ".cache" / "autoencoder-course").expanduser().resolve()


def grading_environment(settings: GradeSettings) -> dict[str, str]:
    """The variables every grading kernel gets: the data, one thread count, a fixed hash seed.

    The fairness harness (course.fairness) runs its kernels with these too, so that it
    grades exactly as ``course grade`` does.
    """
    threads = str(settings.threads)
    env = {"COURSE_DATA": settings.data, "COURSE_DATA_DIR": str(data_root()), "NBGRADER_EXECUTION": "autograde",
           "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
           "PYTHONHASHSEED": "0"}
    env.update({k: os.environ[k] for k in ("COURSE_DEVICE", "CUDA_VISIBLE_DEVICES") if k in os.environ})
    return env


def kernel_policy(scratch: Path, student: str, assignment: str, settings: GradeSettings, course_root: Path) -> dict:
    """The sandbox of this submission's kernel (see course.sandbox), as a dict for the config."""
    from course.sandbox import GIB, HOME as SANDBOX_HOME, MIB, SandboxPolicy, bwrap_path, python_paths

    folders = {name: scratch / name for name in ("home", "runtime")}
    for folder in folders.values():
        if folder.exists():  # a second run in the same scratch folder starts clean
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
    isolate = settings.sandbox and bwrap_path() is not None
    home = SANDBOX_HOME if isolate else str(folders["home"])
    env = {**grading_environment(settings), "LANG": "C.UTF-8", "MPLCONFIGDIR": f"{home}/matplotlib"}
    policy = SandboxPolicy(
        workdir=str(scratch / "autograded" / student / assignment), home=str(folders["home"]),
        runtime=str(folders["runtime"]),
        readable=python_paths(course_root) + ((str(data_root()),) if data_root().exists() else ()),
        env=env, memory_bytes=int(settings.memory_gib * GIB) if settings.memory_gib > 0 else -1,
        max_processes=settings.max_processes, disk_bytes=settings.disk_mib * MIB, cpu_seconds=settings.cpu_seconds,
        isolate=isolate, uid=sandbox_uid() if isolate and os.geteuid() == 0 else -1,
    )
    copy_font_cache(folders["home"] / "matplotlib")
    return policy.to_dict()


def sandbox_uid() -> int:
    """An unprivileged user id for this worker's kernel alone (root grading; see course.sandbox)."""
    return 200_000 + os.getpid() % 100_000


def copy_font_cache(folder: Path) -> None:
    """Give the kernel matplotlib's font list, so it does not rebuild it (seconds) for every notebook.

    Where matplotlib keeps it (its get_cachedir(), without importing matplotlib); when there
    is none yet, the kernel builds one, only slower.
    """
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    cache = Path(os.environ.get("MPLCONFIGDIR") or cache_home / "matplotlib")
    for cached in cache.glob("fontlist-*.json"):
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(cached, folder / cached.name)


def build_scratch(scratch: Path, source_assignment: Path, template_db: Path | None,
                  student: str, notebook: "object", notebook_name: str) -> None:
    """The scratch course: the assignment's source, the gradebook, the submission to grade."""
    from course.notebooks import write_notebook

    assignment = source_assignment.name
    shutil.copytree(source_assignment, scratch / "source" / assignment, dirs_exist_ok=True)
    if template_db is not None:
        shutil.copy(template_db, scratch / "gradebook.db")
    write_notebook(notebook, scratch / "submitted" / student / assignment / notebook_name)


def read_scores(scratch: Path, notebook: str, assignment: str, student: str) -> tuple[dict, dict]:
    """Points scored and points possible per grade cell, from the scratch gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{scratch / 'gradebook.db'}") as gb:
        grades = gb.find_submission_notebook(notebook, assignment, student).grades
        return ({g.name: float(g.score or 0) for g in grades}, {g.name: float(g.max_score) for g in grades})


def execution_problems(notebook) -> list[str]:
    """What went wrong while the notebook ran: one line per kind, naming the first cell it hit."""
    found: dict[str, str] = {}
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            ename = output.get("ename") if output.get("output_type") == "error" else None
            if ename in EXECUTION_PROBLEMS and ename not in found:
                where = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"
                found[ename] = f"{EXECUTION_PROBLEMS[ename]}, in {where}"
    return list(found.values())


def nbgrader_log(outcome: dict) -> str:
    """The log and traceback of an nbgrader API call (either may be missing)."""
    return outcome.get("log", "") + outcome.get("error", "")


def last_error(log: str) -> str:
    """The most telling line of an nbgrader log: its last error or traceback line."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    exceptions = [line for line in lines if re.match(r"^[\w.]+(Error|Exception)\b.*:", line)]
    errors = [line for line in lines if line.startswith("[ERROR]")]
    return (exceptions or errors or lines or ["no log"])[-1][:300]


def grade_notebook(
    submission: Path, student: str, assignment: str, source_assignment: Path, release_notebook: Path,
    scratch: Path, settings: GradeSettings = GradeSettings(), template_db: Path | None = None,
) -> GradeResult:
    """Grade one submitted notebook in a new scratch course at ``scratch``; never raises on bad input.

    ``source_assignment`` is the folder of the solved assignment, ``release_notebook`` the
    student version (used to put back deleted test cells and to tell given code from the
    student's); without ``template_db`` the scratch gradebook is made by generate_assignment.
    """
    from course.submissions import parse_notebook, prepare_submission, release_import_source

    start = time.monotonic()
    name = release_notebook.name
    result = GradeResult(student=student, assignment=assignment, notebook=Path(name).stem)
    notebook, problem = parse_notebook(submission.read_bytes())
    if notebook is None:
        result.attention.append(f"not graded: {problem}")
        return finish(result, start)
    release = read_notebook(release_notebook)
    notebook, notes = prepare_submission(notebook, release)
    result.attention += notes
    if template_db is None:
        template_db = prepare_template(source_assignment, scratch / "template")
    build_scratch(scratch, source_assignment, template_db, student, notebook, name)
    run_nbgrader(result, scratch, settings, course_root=source_assignment.resolve().parent.parent,
                 imports=release_import_source(release))
    return finish(result, start)


def run_nbgrader(result: GradeResult, scratch: Path, settings: GradeSettings, course_root: Path,
                 imports: str = "") -> None:
    """nbgrader autograde then generate_feedback in the scratch course; fills ``result``.

    ``course_root`` is kept out of the kernel's sight even when it is on sys.path.
    """
    from nbgrader.apps import NbGraderAPI

    ensure_tools_on_path()
    student, assignment, stem = result.student, result.assignment, result.notebook
    policy = kernel_policy(scratch, student, assignment, settings, course_root)
    api = NbGraderAPI(config=scratch_config(scratch, settings, policy, imports))
    graded = api.autograde(assignment, student, force=True, create=True)
    autograded = scratch / "autograded" / student / assignment / f"{stem}.ipynb"
    if not graded["success"] or not autograded.exists():
        result.attention.append(f"not graded: nbgrader autograde failed ({last_error(nbgrader_log(graded))})")
        return
    result.points, result.max_points = read_scores(scratch, stem, assignment, student)
    result.autograded = str(autograded)
    result.attention += execution_problems(read_notebook(autograded))
    feedback = api.generate_feedback(assignment, student, force=True)
    html = scratch / "feedback" / student / assignment / f"{stem}.html"
    if feedback["success"] and html.exists():
        result.feedback = str(html)
    else:
        result.attention.append(f"no feedback: nbgrader generate_feedback failed ({last_error(nbgrader_log(feedback))})")


def finish(result: GradeResult, start: float) -> GradeResult:
    result.seconds = round(time.monotonic() - start, 2)
    return result


def main(argv: list[str] | None = None) -> int:
    """Worker entry point: ``python -m course.autograde SPEC.json`` grades one submission.

    SPEC names the submission, student, assignment, source folder, release notebook,
    scratch folder, template gradebook, settings and where to write the result JSON.
    """
    spec = json.loads(Path((argv or sys.argv[1:])[0]).read_text())
    os.chdir(spec["scratch"])  # nbgrader must not pick up the course's nbgrader_config.py
    try:
        result = grade_notebook(
            Path(spec["submission"]), spec["student"], spec["assignment"], Path(spec["source_assignment"]),
            Path(spec["release_notebook"]), Path(spec["scratch"]), GradeSettings(**spec["settings"]),
            Path(spec["template_db"]) if spec.get("template_db") else None,
        )
    except Exception as error:  # a bug or a broken environment: report it for this submission only
        result = GradeResult(spec["student"], spec["assignment"], Path(spec["release_notebook"]).stem,
                             attention=[f"not graded: the grader failed ({type(error).__name__}: {error})"])
    Path(spec["result"]).write_text(result.to_json())
    return 0


def worker_process(spec_path: str) -> None:
    """Body of a grading process: its own session (so it can be killed with its kernel), output to a log."""
    os.setsid()
    log = os.open(Path(spec_path).parent / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    main([spec_path])


if __name__ == "__main__":
    raise SystemExit(main())
