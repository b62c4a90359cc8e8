"""Fold one benchmarks/gpu/run result (gpu-results.json) into the bench's results, so RESULTS.md fills its CUDA rows.

- its ``train`` stage becomes section 1's CUDA device (bench-train.json, ``devices.cuda``);
- its notebook runs become section 2's and 4's CUDA columns (bench-notebooks.json): the quick
  profile as ``<data>-cuda``, the full profile as ``<data>-cuda-60k``;
- the whole file is kept as bench-gpu.json (grading and fairness with CUDA, the environment).

    python benchmarks/run.py --import-gpu gpu-results.json
"""
from __future__ import annotations

import json
from pathlib import Path

from common import RESULTS, load, save

KIND = "course-gpu-run"


def merge(path: Path, results: Path = RESULTS, allow_dry_run: bool = False) -> list[str]:
    """Merge ``path`` into the JSON files under ``results``; returns what was filled in."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise SystemExit(f"cannot read {path}: {error}") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise SystemExit(f"{path} is not the output of benchmarks/gpu/run (no \"kind\": \"{KIND}\")")
    if data.get("dry_run") and not allow_dry_run:
        raise SystemExit(f"{path} comes from a dry run on the CPU: its numbers would be wrong in the CUDA rows")
    filled = []
    save("gpu", data, results)
    if isinstance(data.get("train"), dict):
        train = load("train", results) or {"devices": {}}
        train.setdefault("devices", {})["cuda"] = data["train"]
        save("train", train, results)
        filled.append("section 1: CUDA training loop, variants and seed 004 end to end")
    notebooks = load("notebooks", results)
    for stage, suffix in (("notebooks-quick", "cuda"), ("notebooks-full", "cuda-60k")):
        runs = (data.get(stage) or {}).get("runs")
        if notebooks is not None and runs:
            key = f"{data[stage]['data']}-{suffix}"
            notebooks["runs"][key] = runs
            notebooks.pop("cuda", None)
            filled.append(f"sections 2 and 4: {key} ({len(runs)} notebooks, {data[stage]['profile']} profile)")
    if notebooks is not None:
        save("notebooks", notebooks, results)
    for stage in ("grading", "fairness"):
        if isinstance(data.get(stage), dict):
            filled.append(f"CUDA checks: {stage}")
    return filled
