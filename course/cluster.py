"""Grading on a Dask cluster: ``course grade --cluster ADDRESS|local|slurm``.

Each submission is one Dask task (:func:`grade_on_worker`): the worker unpacks the
assignment's bundle into a scratch folder of its own, grades the task in a fresh process in
the sandbox, exactly as ``course grade --jobs N`` does here, and sends back the
GradeResult (output files included); the coordinator, ``course grade`` itself, stays the
gradebook's only writer and imports each result as it arrives (``as_completed``).

Workers need the same Python environment (the ``course`` package and its dependencies),
bubblewrap, and the data; they grade one task at a time (``--nthreads 1``):

    dask scheduler --port 8786
    dask worker tcp://SCHEDULER:8786 --nthreads 1      # on every grading machine
    course grade SUBMISSIONS --cluster tcp://SCHEDULER:8786

Faults: a task whose worker dies (killed, out of memory) is run again on another worker
once; a submission that kills a second worker is reported as needing attention, and the
rest are graded (the scheduler's ``allowed_failures`` is set to 1 for this). A task that
raises is retried once (``retries=1``).
"""
from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from course.settings import GradeSettings
from course.tasks import AssignmentBundle, GradeResult, GradeTask

ALLOWED_FAILURES = 1  # worker deaths a task may cause before it is given up (the second one ends it)
WORKER_WAIT = 300  # s to wait for the first worker of a cluster that is still starting (SLURM jobs queue)


class ClusterError(RuntimeError):
    """The cluster cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class SlurmOptions:
    """A SLURM job per grading worker (dask-jobqueue's SLURMCluster): one core, one task at a time."""

    queue: str | None = None  # the partition
    account: str | None = None
    walltime: str = "02:00:00"
    memory: str = "8GiB"  # the sandbox's --memory per kernel, plus the worker itself
    python: str | None = None  # the environment's python on the nodes (default: this one)
    scheduler_host: str | None = None  # where the scheduler listens (default: the interface dask picks)


def slurm_cluster(options: SlurmOptions, jobs: int):
    """A SLURMCluster of ``jobs`` single-threaded workers (their job script: ``cluster.job_script()``)."""
    import sys

    from dask_jobqueue import SLURMCluster

    scheduler = {"dashboard": False, **({"host": options.scheduler_host} if options.scheduler_host else {})}
    cluster = SLURMCluster(cores=1, processes=1, memory=options.memory, walltime=options.walltime,
                           queue=options.queue, account=options.account, python=options.python or sys.executable,
                           scheduler_options=scheduler)
    cluster.scale(jobs)
    return cluster


def connect(spec: str, jobs: int, slurm: SlurmOptions | None = None):
    """A Dask client: ``local`` (a LocalCluster of ``jobs`` processes), ``slurm``, or a scheduler's address."""
    from distributed import Client, LocalCluster

    if spec == "local":
        cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
    elif spec == "slurm":
        client = Client(slurm_cluster(slurm or SlurmOptions(), max(1, jobs)))
    else:
        try:
            client = Client(spec, timeout=20)
        except (OSError, TimeoutError) as error:
            raise ClusterError(f"cannot reach the Dask scheduler at {spec}: {error}; is `dask scheduler` running there?")
    client.run_on_scheduler(_configure_scheduler, ALLOWED_FAILURES)
    return client


def _configure_scheduler(allowed_failures: int, dask_scheduler=None) -> None:
    """One retry after a worker dies, then the task is reported; and no task waits in a worker's queue.

    A task queued on a worker that dies counts that death too: with one task per worker
    thread at a time (grading tasks are long, queueing them gains nothing), only the task
    that was running is charged with it.
    """
    dask_scheduler.allowed_failures = allowed_failures
    dask_scheduler.WORKER_SATURATION = 1.0


def close(client) -> None:
    """Disconnect; a cluster this run started (local, SLURM) is shut down with its workers."""
    cluster = client.cluster
    client.close()
    if cluster is not None:
        cluster.close()


def worker_sandbox_problem() -> str | None:
    """On a worker: why the sandbox does not work there (None when it does)."""
    from course.grade import sandbox_problem

    folder = Path(tempfile.mkdtemp(prefix="course-probe-"))
    try:
        return sandbox_problem(folder / "probe")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def checked_sandbox(client, settings: GradeSettings, trusted: bool) -> tuple[GradeSettings | None, str]:
    """Like course.grade.checked_sandbox, on every worker of the cluster."""
    from course.grade import UNSANDBOXED, refusal

    if not settings.sandbox:
        return settings, UNSANDBOXED
    client.wait_for_workers(1, timeout=WORKER_WAIT)
    problems = {worker: problem for worker, problem in client.run(worker_sandbox_problem).items() if problem}
    if not problems:
        return settings, ""
    listed = "; ".join(f"{worker}: {problem}" for worker, problem in sorted(problems.items()))
    if trusted:
        from dataclasses import replace

        return replace(settings, sandbox=False), f"grading the course's own examples without the sandbox ({listed})"
    return None, refusal(f"on {len(problems)} of the cluster's workers ({listed})")


def grade_on_worker(task: GradeTask, bundle: AssignmentBundle, hidden: tuple[str, ...]) -> GradeResult:
    """The Dask task: grade ``task`` on this worker, in scratch folders that are removed afterwards."""
    from course.runner import run_task, scratch_root, subprocess_start, unpack

    root, _ = scratch_root("course-worker-")
    try:
        scratch = root / task.key  # the same short name as on the coordinator: the socket check holds
        return run_task(task, unpack(bundle, root), scratch, subprocess_start, hidden)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def failed(task: GradeTask, error: BaseException) -> GradeResult:
    """The result of a task the cluster gave up on."""
    from distributed import KilledWorker

    if isinstance(error, KilledWorker):
        reason = (f"not graded: grading it killed {ALLOWED_FAILURES + 1} workers (it was retried on another worker "
                  "once); look at the notebook, e.g. for a cell that uses all the memory")
    else:
        reason = f"not graded: the cluster could not grade it ({type(error).__name__}: {str(error)[:200]})"
    return GradeResult(task.student, task.assignment, Path(task.notebook).stem, attention=(reason,))


def run_on_cluster(client, tasks: list[GradeTask], bundles: dict[str, AssignmentBundle], hidden: tuple[str, ...],
                   task_function=grade_on_worker) -> Iterator[tuple[GradeTask, GradeResult]]:
    """Submit the tasks, no more at a time than the cluster has worker threads; yields (task, result) as each
    finishes, failures included.

    A task waiting in a worker's queue is charged with that worker's death too (the scheduler
    counts every task it had given the dead worker): with more tasks in flight than threads, a
    submission that kills its worker twice could get an innocent neighbour reported in its place.
    ``task_function(task, bundle, hidden)`` runs on the workers (the benchmark of the Dask
    path's own overhead swaps in one that does no grading).
    """
    from distributed import as_completed

    run = uuid.uuid4().hex[:8]
    scattered = {name: client.scatter(bundle, broadcast=False, hash=False) for name, bundle in bundles.items()}
    waiting, running = list(reversed(tasks)), {}
    finished = as_completed()

    def top_up() -> None:  # the thread count is read each time: workers come and go
        while waiting and len(running) < max(1, sum(client.nthreads().values())):
            task = waiting.pop()
            future = client.submit(task_function, task, scattered[task.assignment], hidden,
                                   key=f"grade-{run}-{task.key}", retries=1, pure=False)
            running[future.key] = task
            finished.add(future)

    top_up()
    for future in finished:
        task = running.pop(future.key)
        try:
            result = future.result()
        except Exception as error:  # the cluster's failure, not the student's: reported per submission
            result = failed(task, error)
        future.release()
        top_up()
        yield task, result
