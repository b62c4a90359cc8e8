"""Grading on a Dask cluster: ``course grade --cluster ADDRESS|local|slurm``.

Each submission is one Dask task (:func:`grade_on_worker`): the worker unpacks the
assignment's bundle into a scratch folder of its own, grades the task in a fresh process in
the sandbox, exactly as ``course grade --jobs N`` does here, and sends back the
GradeResult (output files included); the coordinator, ``course grade`` itself, stays the
gradebook's only writer and imports each result as it arrives.

Workers need the same Python environment (the ``course`` package and its dependencies),
bubblewrap, and the data; they grade one task at a time (``--nthreads 1``):

    dask scheduler --port 8786
    dask worker tcp://SCHEDULER:8786 --nthreads 1      # on every grading machine
    course grade SUBMISSIONS --cluster tcp://SCHEDULER:8786

Faults: each task is sent to a worker with a free thread, never queued behind another task,
so that a worker's death is charged to the task it was grading and to nothing else (Dask
charges a death to every task it had handed the worker, queued ones included). A task whose
worker dies is run again on another worker once; a submission that kills a second worker is
reported as needing attention, and the rest are graded. A task that raises is retried once
(``retries=1``).
"""
from __future__ import annotations

import queue
import shutil
import tempfile
import time
import uuid
from collections import deque
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from course.settings import GradeSettings
from course.tasks import AssignmentBundle, GradeResult, GradeTask

ALLOWED_FAILURES = 1  # worker deaths a task may cause before it is given up (the second one ends it)
WORKER_WAIT = 300  # s to wait for a worker of a cluster that is still starting (SLURM jobs queue) or has none left
POLL = 2.0  # s between looks at the cluster's workers while no result comes back


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
    return client


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


KILLED = (f"grading it killed {ALLOWED_FAILURES + 1} workers (it was tried again after the first one died); look at "
          "the notebook, e.g. for a cell that uses all the memory")

TaskFunction = Callable[[GradeTask, AssignmentBundle, tuple[str, ...]], GradeResult]


def run_on_cluster(client, tasks: list[GradeTask], bundles: dict[str, AssignmentBundle], hidden: tuple[str, ...],
                   task_function: TaskFunction = grade_on_worker) -> Iterator[tuple[GradeTask, GradeResult]]:
    """Grade the tasks on the cluster; yields (task, result) as each finishes, failures included.

    ``task_function(task, bundle, hidden)`` runs on the workers (the benchmark of the Dask
    path's own overhead swaps in one that does no grading).
    """
    return Dispatch(client, bundles, hidden, task_function).results(tasks)


@dataclass
class Attempt:
    """One try at a task, on the one worker it was sent to."""

    task: GradeTask
    worker: str
    future: Any


def _with_bundle(task_function: TaskFunction, task: GradeTask, run: str, hidden: tuple[str, ...]) -> GradeResult:
    """On a worker: ``task_function`` with the task's bundle, from the run's worker plugin (course.cluster_bundles)."""
    from course.cluster_bundles import on_worker

    return task_function(task, on_worker(run, task.assignment), hidden)


def _deaths(keys: list[str], dask_scheduler=None) -> dict[str, int]:
    """On the scheduler: how many workers died while each task was on them (Dask's own count)."""
    return {key: dask_scheduler.tasks[key].suspicious if key in dask_scheduler.tasks else 0 for key in keys}


class Dispatch:
    """Sends each task to a worker with a free thread, and to that worker only.

    Dask charges a worker's death to every task it had handed that worker, queued ones
    included: a task waiting behind a crashing one would be charged too, and an innocent
    submission could be reported in place of the one that kills workers. So a task is never
    queued on a worker (``workers=[address]``, at most one per thread), and a death is
    charged to the task(s) that worker was running and to nothing else. A task whose worker
    vanished before it got there is sent again, uncharged.
    """

    def __init__(self, client, bundles: dict[str, AssignmentBundle], hidden: tuple[str, ...],
                 task_function: TaskFunction):
        self.client, self.bundles, self.hidden, self.task_function = client, bundles, hidden, task_function
        self.run = f"course-{uuid.uuid4().hex[:8]}"  # names this run's tasks and bundles on a shared cluster
        self.running: dict[str, Attempt] = {}  # by the attempt's key
        self.tries: dict[str, int] = {}  # task.key -> attempts so far
        self.deaths: dict[str, int] = {}  # task.key -> workers that died grading it
        self.finished: queue.Queue = queue.Queue()  # futures, put there by Dask as each ends

    def results(self, tasks: list[GradeTask]) -> Iterator[tuple[GradeTask, GradeResult]]:
        from course import cluster_bundles

        cluster_bundles.register(self.client, self.run, self.bundles)
        try:
            yield from self.dispatch(deque(tasks))
        finally:
            with suppress(Exception):  # a scheduler gone mid-run: its error, already on its way, matters more
                self.client.unregister_worker_plugin(self.run)

    def dispatch(self, waiting: deque) -> Iterator[tuple[GradeTask, GradeResult]]:
        alone_since = time.monotonic()
        while waiting or self.running:
            workers = self.client.nthreads()  # read each time: workers come and go
            for attempt, deaths in self.stranded(workers):
                yield from self.after_death(attempt, deaths, waiting)
            self.send(waiting, workers)
            if workers or self.running:
                alone_since = time.monotonic()
            elif time.monotonic() - alone_since > WORKER_WAIT:
                reason = f"the cluster had no worker for {WORKER_WAIT} s; run `course grade` again when it has"
                yield from ((task, task.not_graded(reason)) for task in waiting)
                return
            try:
                future = self.finished.get(timeout=POLL)
            except queue.Empty:
                continue
            if (attempt := self.running.pop(future.key, None)) is not None:  # else settled as stranded
                yield from self.settle(attempt, waiting)

    def send(self, waiting: deque, workers: dict[str, int]) -> None:
        """Give every free worker thread a waiting task."""
        busy: dict[str, int] = {}
        for attempt in self.running.values():
            busy[attempt.worker] = busy.get(attempt.worker, 0) + 1
        for worker, threads in workers.items():
            for _ in range(max(0, threads - busy.get(worker, 0))):
                if not waiting:
                    return
                task = waiting.popleft()
                self.tries[task.key] = self.tries.get(task.key, 0) + 1
                key = f"{self.run}-{task.key}-{self.tries[task.key]}"
                future = self.client.submit(_with_bundle, self.task_function, task, self.run, self.hidden, key=key,
                                            workers=[worker], allow_other_workers=False, retries=1, pure=False)
                self.running[key] = Attempt(task, worker, future)
                future.add_done_callback(self.finished.put)

    def settle(self, attempt: Attempt, waiting: deque) -> Iterator[tuple[GradeTask, GradeResult]]:
        """A finished attempt: its result, or its worker's death."""
        from distributed import KilledWorker

        try:
            result = attempt.future.result()
        except KilledWorker as error:  # the scheduler gave up on it, after allowed_failures + 1 deaths
            yield from self.after_death(attempt, getattr(error, "allowed_failures", 0) + 1, waiting)
            return
        except Exception as error:  # the cluster's failure, not the student's: reported per submission
            result = attempt.task.not_graded(f"the cluster could not grade it ({type(error).__name__}: {str(error)[:200]})")
        attempt.future.release()
        yield attempt.task, result

    def stranded(self, workers: dict[str, int]) -> list[tuple[Attempt, int]]:
        """Attempts whose worker left the cluster, taken out of ``running``, each with the worker deaths it
        caused (0 when it never reached its worker, or the worker left politely)."""
        gone = [a for a in self.running.values() if a.worker not in workers and a.future.status == "pending"]
        if not gone:
            return []
        deaths = self.client.run_on_scheduler(_deaths, [a.future.key for a in gone])
        for attempt in gone:
            del self.running[attempt.future.key]
        return [(attempt, deaths.get(attempt.future.key, 0)) for attempt in gone]

    def after_death(self, attempt: Attempt, deaths: int, waiting: deque) -> Iterator[tuple[GradeTask, GradeResult]]:
        """Charge the deaths to the task; it goes first in the queue again, or is reported after the second."""
        attempt.future.release()
        task = attempt.task
        self.deaths[task.key] = self.deaths.get(task.key, 0) + deaths
        if self.deaths[task.key] > ALLOWED_FAILURES:
            yield task, task.not_graded(KILLED)
        else:
            waiting.appendleft(task)
