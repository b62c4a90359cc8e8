"""Sections 8 and 9 of RESULTS.md: grading a large class (bench_cluster.py) and the hidden checks judged in the
grader, before and after (bench_hidden_checks.py). Each reads its own results/bench-*.json."""
from __future__ import annotations

from common import table


def section_cluster(result: dict | None) -> str:
    lines = ["## 8. Grading a large class: Dask workers and the single writer (`benchmarks/bench_cluster.py`)", ""]
    if not result:
        return "\n".join(lines + ["Not measured (run `python benchmarks/bench_cluster.py`).", ""])
    machine = result["machine"]
    lines += [f"{machine['date']}, {machine['cpu']}, 1-minute load {machine['load_average']} at the start "
              "(2 cores: more workers than cores only queue).", "",
              "### Throughput: processes (`--jobs N`) against a Dask LocalCluster (`--cluster local --jobs N`)", "",
              "The same complete submissions of the fixture assignment `f1-basics` (a notebook that runs in well "
              "under a second), so the grading machinery is what is measured. Each `--cluster local` run includes "
              "starting its cluster (20-40 s here), which dominates a handful of submissions; the 1-minute load "
              "above says how much else ran on the two cores.", "",
              table(["path", "workers", "submissions", "wall, s", "s per submission"],
                    [[r["path"], r["workers"], r["submissions"], r["seconds"], r["seconds_per_submission"]]
                     for r in result["throughput"]]), ""]
    cost = result["overhead"]
    verdict = "met" if cost["seconds_per_submission"] <= cost["target"] else "not met"
    lines += ["### What the scheduler and the writer cost per submission", "",
              f"{cost['submissions']:,} submissions through the Dask path (2 workers) and the single gradebook writer, "
              "with the grading taken out (each task returns a real graded result under its own student id): "
              f"**{cost['seconds_per_submission'] * 1000:.0f} ms per submission**, of which the writer "
              f"{cost['writer_seconds_per_submission'] * 1000:.0f} ms (target under {cost['target'] * 1000:.0f} ms: "
              f"{verdict}).", ""]
    paper = result.get("on_paper") or []
    if paper:
        lines += ["### On paper: hours to grade a class of the real assignments", "",
                  "Each worker grades one submission at a time at section 3's seconds per submission (one worker, "
                  "sandbox on); the writer stores results one after the other at the cost above. Hours = the larger "
                  "of the two.", "",
                  table(["assignments", "submissions", "workers", "hours", "bound by"],
                        [[r["assignment"], f"{r['submissions']:,}", r["workers"], r["hours"],
                          "the writer" if r["writer_bound"] else "grading"] for r in paper]), ""]
    return "\n".join(lines)


def section_hidden_checks(result: dict | None) -> str:
    import bench_hidden_checks

    lines = ["## 9. Hidden checks judged in the grader: before and after (`benchmarks/bench_hidden_checks.py`)", ""]
    if not result:
        return "\n".join(lines + ["Not measured (run `python benchmarks/bench_hidden_checks.py`).", ""])
    body = bench_hidden_checks.markdown(result).splitlines()[1:]  # its own title is this section's
    return "\n".join(lines + [line.replace("## ", "### ", 1) if line.startswith("## ") else line for line in body])
