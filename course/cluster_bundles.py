"""The assignment bundles of a grading run, on every Dask worker: those that join later too.

A bundle sent as Dask data (``client.scatter``) lives on the workers that hold a copy; a
worker that dies takes its copy with it, and the tasks that need it are cancelled when the
last copy goes (a submission that kills workers would take its neighbours down with it).
A worker plugin is kept by the scheduler and handed to every worker as it starts, restarted
ones included: the bundles cannot be lost while the scheduler runs.
"""
from __future__ import annotations

from distributed import get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from course.tasks import AssignmentBundle


class Bundles(WorkerPlugin):
    """Assignment name -> its bundle, on each worker (registered under ``name``, one per run)."""

    def __init__(self, name: str, bundles: dict[str, AssignmentBundle]):
        self.name, self.bundles = name, bundles


def register(client, name: str, bundles: dict[str, AssignmentBundle]) -> None:
    client.register_plugin(Bundles(name, bundles), name=name)


def on_worker(name: str, assignment: str) -> AssignmentBundle:
    """In a task: the bundle of ``assignment`` from this run's plugin."""
    return get_worker().plugins[name].bundles[assignment]
