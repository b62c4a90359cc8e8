"""Grade one submitted notebook with nbgrader, in a scratch course of its own, in the sandbox.

This is the unit of grading: a :class:`~course.tasks.GradeTask` in, a
:class:`~course.tasks.GradeResult` out (points per grade cell, the autograded notebook, the
feedback HTML, whatever needs the instructor's attention, and nbgrader's log when it
failed). ``course grade`` runs it once per submission in a separate process
(:mod:`course.runner`), locally or on a Dask worker, and imports the results into the
course gradebook with a single writer.

Each task gets a scratch nbgrader course named after the task's short key, in which the
student is always ``student`` and the assignment always ``assignment``: nothing built from
a student id or an assignment name reaches a path (an e-mail address as student id would
otherwise push the kernel's Unix socket past its 107-byte limit). The scratch course holds
``source/assignment/`` (the solved folder), a copy of the bundle's template gradebook and
``submitted/student/assignment/<notebook>.ipynb``. nbgrader's own converters do the work
(autograde restores the test cells and scores them, generate_feedback writes the HTML);
this module only configures them: the sandboxed kernel (:mod:`course.sandbox`), the
timeouts (:mod:`course.execute`), one torch thread.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from course import feedback
from course.nbgrader_api import NbgraderFailed, api_log, course_config, ensure_tools_on_path, generate_assignment
from course.notebooks import read_notebook
from course.settings import GradeSettings
from course.tasks import GradeResult, GradeTask, WorkerSpec

SCRATCH_STUDENT = "student"  # the student's name in every scratch course
SCRATCH_ASSIGNMENT = "assignment"  # the assignment's name in every scratch course and template gradebook

# Error names in an autograded notebook that the instructor should hear about, and why.
EXECUTION_PROBLEMS = {
    "DeadKernelError": "the kernel died (a crash, os._exit, or the memory or CPU-time limit)",
    "CellTimeoutError": "a cell ran past the per-cell time limit",
    "NotebookTimeoutError": "the notebook ran past its time limit",
    "MemoryError": "ran out of memory (the per-process limit)",
    "GradingStateError": "the grader could not put the kernel's state back before a test (tampering?)",
}


def scratch_config(scratch: Path, settings: GradeSettings, policy: dict, imports: str = "", checks: dict | None = None):
    """nbgrader configuration for a scratch course at ``scratch`` with the sandboxed Execute.

    ``imports``: the release notebook's import statements, which the guard re-binds
    before every test (see course.execute); ``checks``: CourseExecute's settings for the
    hidden checks (folder, notebook, seed, references, where the verdicts go).
    """
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    from course.execute import CourseExecute

    c = course_config(scratch)
    c.Execute.timeout = settings.cell_timeout
    c.Execute.kernel_name = "python3"
    # A kernel slowed down by its own code (a trace function on every line) may send a cell's last output
    # after nbclient's 4 s wait; that must not abort the whole notebook ("autograde failed"): wait longer,
    # then carry on with what arrived.
    c.Execute.iopub_timeout = 15
    c.Execute.raise_on_iopub_timeout = False
    c.Execute.shutdown_kernel = "immediate"  # the graded notebook is already saved: no graceful wait (about 1 s)
    c.CourseExecute.notebook_timeout = settings.notebook_timeout
    c.CourseExecute.guard_imports = imports
    for key, value in (checks or {}).items():
        setattr(c.CourseExecute, key, value)
    c.SandboxKernelManager.policy = policy
    c.SandboxKernelManager.transport = "ipc"  # Unix sockets: TCP would not cross the empty network namespace
    c.SandboxKernelManager.ip = str(Path(policy["runtime"]) / "kernel")
    c.SandboxKernelManager.connection_file = str(Path(policy["runtime"]) / "kernel.json")
    steps = Autograde.class_traits()["autograde_preprocessors"].default()
    c.Autograde.autograde_preprocessors = [CourseExecute if step is Execute else step for step in steps]
    feedback.configure(c, settings.feedback)
    return c


def prepare_template(source_assignment: Path, template: Path) -> Path:
    """A scratch course whose gradebook knows the assignment, as ``assignment``; returns the gradebook."""
    if template.exists():
        shutil.rmtree(template)
    shutil.copytree(source_assignment, template / "source" / SCRATCH_ASSIGNMENT)
    generate_assignment(course_config(template), SCRATCH_ASSIGNMENT)
    return template / "gradebook.db"


def data_root() -> Path:
    """Where helpers looks for MNIST on disk (read-only inside the sandbox).

    The rule of ``helpers.data.data_root`` (a test keeps them equal), repeated here because
    importing helpers.data imports torch: four seconds for every submission graded.
    """
    return Path(os.environ.get("COURSE_DATA_DIR") or Path.home() / ".cache" / "autoencoder-course").expanduser().resolve()


def grading_environment(settings: GradeSettings) -> dict[str, str]:
    """The variables every grading kernel gets: data, device, training budget, one thread count, a fixed hash seed.

    The fairness harness (course.fairness) runs its kernels with these too, so that it
    grades exactly as ``course grade`` does. The training budget is always the quick
    profile, whose runs the hidden tests' thresholds were measured on; on the CPU no GPU is
    visible at all, so nothing in the kernel initialises CUDA.
    """
    threads = str(settings.threads)
    env = {"COURSE_DATA": settings.data, "COURSE_DATA_DIR": str(data_root()), "NBGRADER_EXECUTION": "autograde",
           "COURSE_PROFILE": "quick", "COURSE_DEVICE": settings.device,
           "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
           "PYTHONHASHSEED": "0"}
    if settings.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    elif "CUDA_VISIBLE_DEVICES" in os.environ:
        env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
    return env


@contextmanager
def grader_data(settings: GradeSettings):
    """This process loads the data the kernels load (the hidden checks evaluate trained models on it)."""
    keys = ("COURSE_DATA", "COURSE_DATA_DIR", "COURSE_PROFILE")
    saved = {key: os.environ.get(key) for key in keys}
    os.environ.update({key: grading_environment(settings)[key] for key in keys})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def kernel_policy(scratch: Path, settings: GradeSettings, hidden: tuple[str, ...]) -> dict:
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
        workdir=str(scratch / "autograded" / SCRATCH_STUDENT / SCRATCH_ASSIGNMENT), home=str(folders["home"]),
        runtime=str(folders["runtime"]),
        readable=python_paths(hidden) + ((str(data_root()),) if data_root().exists() else ()),
        env=env, memory_bytes=memory_limit(settings),
        max_processes=settings.max_processes, disk_bytes=settings.disk_mib * MIB, cpu_seconds=settings.cpu_seconds,
        isolate=isolate, uid=sandbox_uid() if isolate and os.geteuid() == 0 else -1,
    )
    copy_font_cache(folders["home"] / "matplotlib")
    return policy.to_dict()


def memory_limit(settings: GradeSettings) -> int:
    """Bytes of memory per kernel process, or -1 for none.

    CUDA reserves far more memory than any such limit when it starts (the memory of every
    GPU mapped into the process), so a kernel that computes on the GPU gets none; on the CPU
    (the default) the limit keeps one submission from starving the others.
    """
    from course.sandbox import GIB

    return int(settings.memory_gib * GIB) if settings.memory_gib > 0 and settings.device == "cpu" else -1


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


def build_scratch(scratch: Path, bundle: Path, notebook, notebook_name: str) -> None:
    """The scratch course: the assignment's source, the template gradebook, the submission to grade."""
    from course.notebooks import write_notebook

    shutil.copytree(bundle / "source", scratch / "source" / SCRATCH_ASSIGNMENT, dirs_exist_ok=True)
    shutil.copy(bundle / "gradebook.db", scratch / "gradebook.db")
    write_notebook(notebook, scratch / "submitted" / SCRATCH_STUDENT / SCRATCH_ASSIGNMENT / notebook_name)


def read_scores(scratch: Path, notebook: str) -> tuple[dict, dict]:
    """Points scored and points possible per grade cell, from the scratch gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{scratch / 'gradebook.db'}") as gb:
        grades = gb.find_submission_notebook(notebook, SCRATCH_ASSIGNMENT, SCRATCH_STUDENT).grades
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


def checks_settings(bundle: Path, scratch: Path, notebook: str, seed: int, references: str) -> dict:
    """CourseExecute's settings for the hidden checks of this task (course.checks, course.execute)."""
    return {"checks_folder": str(bundle / "source"), "checks_notebook": notebook, "checks_seed": seed,
            "checks_references": references, "verdicts_path": str(scratch / "verdicts.json")}


def check_attention(scratch: Path) -> list[str]:
    """Attention lines for test cells whose hidden checks got no values back."""
    path = scratch / "verdicts.json"
    verdicts = json.loads(path.read_text()) if path.exists() else []
    return [f"{v['message']} (in {v['cell']})" for v in verdicts if v.get("not_run")]


def grade_task(task: GradeTask, bundle: Path, scratch: Path, hidden: tuple[str, ...] = ()) -> GradeResult:
    """Grade one submission against the unpacked bundle, in a new scratch course; never raises on bad input.

    ``hidden``: folders the kernel must not see even when they are on sys.path (the course).
    """
    from course.submissions import parse_notebook, prepare_submission, release_import_source

    start = time.monotonic()
    result = GradeResult(task.student, task.assignment, Path(task.notebook).stem)
    notebook, problem = parse_notebook(task.submission)
    if notebook is None:
        return finish(replace(result, attention=(f"not graded: {problem}",)), start)
    release = read_notebook(bundle / "release" / task.notebook)
    notebook, notes = prepare_submission(notebook, release)
    build_scratch(scratch, bundle, notebook, task.notebook)
    meta = json.loads((bundle / "bundle.json").read_text()) if (bundle / "bundle.json").exists() else {}
    checks = checks_settings(bundle, scratch, task.notebook, meta.get("seed", 0), meta.get("references", ""))
    with grader_data(task.settings):
        graded = run_nbgrader(replace(result, attention=tuple(notes)), scratch, task.settings, hidden,
                              imports=release_import_source(release), checks=checks)
    return finish(replace(graded, attention=(*graded.attention, *check_attention(scratch))), start)


def run_nbgrader(result: GradeResult, scratch: Path, settings: GradeSettings, hidden: tuple[str, ...],
                 imports: str = "", checks: dict | None = None) -> GradeResult:
    """nbgrader autograde then generate_feedback in the scratch course: ``result`` with what they gave."""
    from nbgrader.apps import NbGraderAPI

    ensure_tools_on_path()
    policy = kernel_policy(scratch, settings, hidden)
    api = NbGraderAPI(config=scratch_config(scratch, settings, policy, imports, checks))
    graded = api.autograde(SCRATCH_ASSIGNMENT, SCRATCH_STUDENT, force=True, create=True)
    stem = result.notebook
    autograded = scratch / "autograded" / SCRATCH_STUDENT / SCRATCH_ASSIGNMENT / f"{stem}.ipynb"
    if not graded["success"] or not autograded.exists():
        failure = NbgraderFailed("autograde", api_log(graded))
        return replace(result, attention=(*result.attention, f"not graded: nbgrader autograde failed ({failure.cause})"),
                       log=failure.log)
    points, max_points = read_scores(scratch, stem)
    attention = (*result.attention, *execution_problems(read_notebook(autograded)))
    result = replace(result, points=points, max_points=max_points, autograded=autograded.read_bytes(), attention=attention)
    feedback = api.generate_feedback(SCRATCH_ASSIGNMENT, SCRATCH_STUDENT, force=True)
    html = scratch / "feedback" / SCRATCH_STUDENT / SCRATCH_ASSIGNMENT / f"{stem}.html"
    if feedback["success"] and html.exists():
        return replace(result, feedback=html.read_bytes())
    failure = NbgraderFailed("generate_feedback", api_log(feedback))
    return replace(result, attention=(*result.attention, f"no feedback: nbgrader generate_feedback failed ({failure.cause})"),
                   log=failure.log)


def finish(result: GradeResult, start: float) -> GradeResult:
    return replace(result, seconds=round(time.monotonic() - start, 2))


def die_with_parent(parent: int) -> None:
    """Be killed when ``parent`` dies (Linux's parent-death signal), or exit now if it already has.

    The kernel's sandbox dies with this process in turn (bubblewrap's --die-with-parent).
    """
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the coordinator's time limit still kills it
        return
    if os.getppid() != parent:  # it died before the signal was armed
        os._exit(1)


def main(argv: list[str] | None = None) -> int:
    """Worker entry point: ``python -m course.autograde SPEC.json`` grades one submission (a WorkerSpec)."""
    from course.runner import PARENT_VARIABLE

    if os.environ.get(PARENT_VARIABLE):
        die_with_parent(int(os.environ[PARENT_VARIABLE]))
    spec = WorkerSpec.from_json(Path((argv or sys.argv[1:])[0]).read_text())
    os.chdir(spec.scratch)  # nbgrader must not pick up the course's nbgrader_config.py
    try:
        result = grade_task(spec.task, Path(spec.bundle), Path(spec.scratch), spec.hidden)
    except Exception as error:  # a bug or a broken environment: report it for this submission only
        import traceback

        result = spec.task.not_graded(f"the grader failed ({type(error).__name__}: {error})",
                                      log=traceback.format_exc())
    Path(spec.result).write_text(result.to_json())
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
