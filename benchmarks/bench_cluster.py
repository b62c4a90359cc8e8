"""Section 8 (grading a large class): Dask workers against --jobs, the coordinator's cost per
submission, and how long 1,000 or 10,000 submissions take on paper.

1. throughput: the same submissions of the tiny fixture assignment ``f1-basics``
   (tests/fixtures/source_notebooks: four functions, a notebook that runs in well under a
   second, so what is measured is the grading machinery) graded with ``--jobs 1, 2, 4``
   (processes here) and ``--cluster local --jobs 1, 2, 4`` (a Dask LocalCluster of that many
   single-threaded workers), each in a fresh scratch course;
2. overhead: 1,000 submissions through the Dask path and the single gradebook writer with
   the grading itself taken out: each task returns a real graded result of the fixture (points,
   autograded notebook, feedback HTML) under its own student id, and the coordinator stores
   every one (outputs written, points, ledger entry, one commit each), as ``course grade``
   does. Wall time per submission = what the scheduler and the writer cost together; the
   writer's share is timed on its own. Target: under 0.3 s, so that the writer is never the
   bottleneck of a 100-worker cluster;
3. on paper: hours to grade 1,000 and 10,000 submissions of the real assignments on 1, 10
   and 100 workers, from section 3's seconds per submission (one worker, one thread) and the
   coordinator's serial cost per submission measured in 2.

    python benchmarks/bench_cluster.py [--copies 8] [--overhead 1000]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import ROOT, load, machine, save, say

FIXTURE = ROOT / "tests" / "fixtures" / "source_notebooks"
ASSIGNMENT = "f1-basics"
PYPROJECT = '[project]\nname = "autoencoder-course"\n\n[tool.course]\nrepository = "bench/bench"\nbranch = "main"\n'
WORKERS = (1, 2, 4)
CLASS_SIZES = (1_000, 10_000)
CLUSTER_SIZES = (1, 10, 100)
TARGET_OVERHEAD = 0.3  # s per submission for the scheduler and the writer together


def fixture_course(parent: Path, name: str) -> Path:
    """A course root holding the fixture assignment, released."""
    from course.config import load_config
    from course.release import release_files, write_release

    root = parent / name
    shutil.copytree(FIXTURE / ASSIGNMENT, root / "source_notebooks" / ASSIGNMENT)
    (root / "pyproject.toml").write_text(PYPROJECT)
    config = load_config(root)
    write_release(config, ASSIGNMENT, release_files(config, ASSIGNMENT))
    return root


def complete_submission(root: Path) -> bytes:
    """The release notebook with the fixture's solutions in its answer cells."""
    from course.notebooks import fill_solution_cells, notebook_bytes, read_notebook, solution_sources

    release = read_notebook(root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    solved = solution_sources(read_notebook(root / "source_notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    return notebook_bytes(fill_solution_cells(release, solved))


def class_folder(folder: Path, data: bytes, count: int) -> Path:
    for i in range(count):
        path = folder / f"student-{i:04d}" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
    return folder


def grade_run(root: Path, submissions: Path, jobs: int, cluster: str | None):
    """One in-process ``course grade`` (the API the command line calls); returns the outcome and seconds."""
    from course.config import load_config
    from course.grade import GradeRequest, grade

    request = GradeRequest(submissions, jobs=jobs, cluster=cluster)
    start = time.perf_counter()
    outcome = grade(load_config(root), request)
    seconds = time.perf_counter() - start
    if outcome.error or outcome.attention:
        raise RuntimeError(f"grading failed: {outcome.error or outcome.attention[:3]}")
    return outcome, seconds


def throughput(parent: Path, copies: int) -> list[dict]:
    """Section 8.1: --jobs N against --cluster local --jobs N on the same submissions."""
    rows = []
    submissions = None
    for jobs in WORKERS:
        for cluster in (None, "local"):
            label = f"{'dask' if cluster else 'jobs'}-{jobs}"
            root = fixture_course(parent, f"course-{label}")
            submissions = submissions or class_folder(parent / "class", complete_submission(root), copies)
            say(f"  {copies} submissions, {'--cluster local ' if cluster else ''}--jobs {jobs}")
            outcome, seconds = grade_run(root, submissions, jobs, cluster)
            assert len(outcome.graded) == copies
            rows.append({"path": "dask LocalCluster" if cluster else "processes (--jobs)", "workers": jobs,
                         "submissions": copies, "seconds": round(seconds, 1),
                         "seconds_per_submission": round(seconds / copies, 2)})
            say(f"    {seconds:.1f} s, {seconds / copies:.2f} s per submission")
    return rows


class Canned:
    """A Dask task function that grades nothing: the real result of one submission, renamed (benchmark only)."""

    def __init__(self, result):
        self.result = result

    def __call__(self, task, bundle, hidden):
        return replace(self.result, student=task.student)


def overhead(parent: Path, count: int) -> dict:
    """Section 8.2: ``count`` submissions through scheduler and writer, with the grading itself taken out."""
    import cloudpickle
    from distributed import Client, LocalCluster

    import course.cluster as cluster
    from course.config import load_config
    from course.gradebook import GradebookWriter
    from course.grade import build_bundle, make_tasks
    from course.collect import Submission
    from course.settings import GradeSettings

    root = fixture_course(parent, "course-overhead")
    one = class_folder(parent / "one", complete_submission(root), 1)
    outcome, _ = grade_run(root, one, 1, None)
    canned = outcome.graded[0][1]
    config = load_config(root)
    bundle = build_bundle(config, ASSIGNMENT, parent / "overhead-scratch")
    data = complete_submission(root)
    submissions = [Submission(f"student-{i:05d}", ASSIGNMENT, f"{ASSIGNMENT}.ipynb", data, "bench") for i in range(count)]
    tasks = make_tasks(submissions, {ASSIGNMENT: bundle}, GradeSettings())
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this script
    stored = 0.0
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as local, \
            Client(local) as client, GradebookWriter(config.db_url, config.root) as writer:
        say(f"  {count} submissions through the Dask path and the writer (no grading)")
        start = time.perf_counter()
        for task, result in cluster.run_on_cluster(client, tasks, {ASSIGNMENT: bundle}, (), Canned(canned)):
            before = time.perf_counter()
            writer.store(result, task.fingerprint)
            stored += time.perf_counter() - before
        wall = time.perf_counter() - start
    per = wall / count
    say(f"    {wall:.1f} s: {per * 1000:.0f} ms per submission, of which the writer {1000 * stored / count:.0f} ms")
    return {"submissions": count, "seconds": round(wall, 1), "seconds_per_submission": round(per, 4),
            "writer_seconds_per_submission": round(stored / count, 4), "target": TARGET_OVERHEAD,
            "feedback_bytes": len(canned.feedback or b""), "autograded_bytes": len(canned.autograded or b"")}


def on_paper(per_submission: dict, coordinator: float) -> list[dict]:
    """Section 8.3: hours for a class, each assignment's grading time spread over the workers, plus the serial writer."""
    rows = []
    for assignment, seconds in per_submission.items():
        for students in CLASS_SIZES:
            for workers in CLUSTER_SIZES:
                grading = students * seconds / workers
                serial = students * coordinator
                rows.append({"assignment": assignment, "submissions": students, "workers": workers,
                             "hours": round(max(grading, serial) / 3600, 2),
                             "writer_bound": serial > grading})
    return rows


def real_seconds_per_submission() -> dict:
    """Seconds per real submission on one worker from section 3 (--jobs 1, sandbox on)."""
    grading = load("grading") or {}
    rows = [r for r in grading.get("throughput", []) if r["jobs"] == 1 and r["sandbox"]]
    label = ", ".join(grading.get("assignments", [])) or "real assignments"
    return {label: rows[0]["seconds_per_submission"]} if rows else {}


def run(copies: int = 8, count: int = 1_000) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as scratch:
        parent = Path(scratch)
        say("section 8: grading throughput, processes against Dask workers")
        rows = throughput(parent, copies)
        say("section 8: what the scheduler and the single writer cost per submission")
        cost = overhead(parent, count)
    result = {"machine": machine(), "throughput": rows, "overhead": cost,
              "on_paper": on_paper(real_seconds_per_submission(), cost["seconds_per_submission"])}
    save("cluster", result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=8, help="submissions graded in each throughput run")
    parser.add_argument("--overhead", type=int, default=1_000, help="submissions through the Dask path and writer")
    args = parser.parse_args(argv)
    run(args.copies, args.overhead)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
