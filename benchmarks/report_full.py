"""Sections 6 and 7 of RESULTS.md: the full profile (notebooks, codes vs pixels, bf16) and the GPU check.

Rendered from results/bench-full.json (bench_full.py), results/codes-vs-pixels.jsonl
(codes_vs_pixels.py) and results/bench-gpu.json (benchmarks/gpu/run, imported with
``run.py --import-gpu``); report.py calls these.
"""
from __future__ import annotations

import json
from pathlib import Path

from common import load, table

NOT_LENT = ("not measured: no GPU was lent to the session that ran this (the kit is prepared and dry-run tested: "
            "`benchmarks/gpu/prepare` here, `benchmarks/gpu/run` there, `run.py --import-gpu`)")

# (label, seed value, where, notebook, results key, higher is better): the seed numbers the full profile targets
TARGETS = [
    ("nearest-centroid accuracy, pixels", 0.8203, "seed 004 (a baseline, not a target)", "04", "accuracy_pixels", None),
    ("nearest-centroid accuracy, AE codes", 0.8789, "seed 004 (target: at least this)", "04", "accuracy_latent", True),
    ("nearest-centroid accuracy, AE + contrastive codes", 0.9182, "seed 004 (target)", "04", "accuracy_contrastive",
     True),
    ("k-means accuracy, pixels", 0.542, "seed 000 (a baseline, not a target)", "01", "kmeans_pixels", None),
    ("k-means accuracy, MLP AE codes", 0.619, "seed 000 (target)", "01", "kmeans_ae", True),
    ("k-means accuracy, VAE means", 0.712, "seed 000 (target)", "03", "kmeans_mu", True),
    ("test MSE per pixel, MLP AE-10 (Gaussian)", 0.018, "seed 000 (target: at most)", "01", "ae_mse_test_mse", False),
    ("VAE test loss, nats per digit", 105.0, "pytorch/examples (target: at most)", "03", "vae_test_loss", False),
]


def fmt(value: float | None, key: str) -> str:
    if value is None:
        return "—"
    if key.startswith("accuracy"):
        return f"{100 * value:.2f} %"
    if key.startswith("kmeans"):
        return f"{value:.3f}"
    if key == "vae_test_loss":
        return f"{value:.1f}"
    return f"{value:.4f}"


def metric(runs: list[dict], notebook: str, key: str) -> float | None:
    run = next((r for r in runs if r["notebook"].startswith(notebook)), None)
    return None if run is None else run["metrics"].get(key)


def meets(value: float | None, seed: float, higher: bool | None) -> str:
    if value is None or higher is None:
        return "—"
    return "yes" if (value >= seed if higher else value <= seed) else "no"


FASHION_KEYS = [("04", "accuracy_pixels", "pct"), ("04", "accuracy_latent", "pct"), ("04", "accuracy_contrastive", "pct"),
                ("01", "kmeans_ae", "acc"), ("03", "kmeans_mu", "acc"), ("03", "kmeans_pixels", "acc"),
                ("01", "ae_mse_test_mse", "mse"), ("02", "bce_deep_2d", "mse"), ("02", "bce_shallow_2d", "mse"),
                ("03", "vae_test_loss", "nats")]


def fashion_full(results: Path) -> list[str]:
    """The full profile on full-size Fashion-MNIST (CPU): the notebooks that fit the budget, the rest extrapolated."""
    fashion = load("full-fashion-mnist", results)
    lines = ["#### On full-size Fashion-MNIST (60,000 training images, CPU)", ""]
    runs = (fashion or {}).get("runs", [])
    rows = [[f"`{r['notebook']}`", f"{r['seconds']:.0f} s", "; ".join(r["failures"]) or "none",
             ", ".join(f"{k} {fmt(v, k)}" for nb, k, _ in FASHION_KEYS if r["notebook"].startswith(nb)
                       for v in [r["metrics"].get(k)] if v is not None)] for r in runs]
    train = load("train", results) or {}
    cpu = (train.get("devices") or {}).get("cpu") or {}
    baseline = next((v for v in cpu.get("variants", []) if "warm_epoch_s" in v), None)
    measured = {r["notebook"] for r in runs}
    if "04-latent-classifier-contrastive" not in measured and baseline:
        minutes = 2 * 500 * baseline["warm_epoch_s"] / 60
        rows.append(["`04-latent-classifier-contrastive`", f"not measured: **extrapolated** {minutes:.0f} min "
                     f"(2 models x 500 epochs x {baseline['warm_epoch_s']:.2f} s, section 1's warm epoch, 1 thread)",
                     "—", "—"])
    for name in ("01-pca-to-autoencoders", "02-deep-and-spherical", "03-variational-autoencoders"):
        if name not in measured:
            rows.append([f"`{name}`", "not measured (budget of this session)", "—", "—"])
    return lines + [
        "Fashion-MNIST is not MNIST: these numbers do **not** compare with the seeds'; they show that the full "
        "profile runs on full-size data and what it costs on a CPU (a GPU's job: section 7).",
        "",
        table(["notebook", "wall time, full profile", "failed cells", "numbers"], rows),
        "",
    ]


def codes_runs(results: Path) -> list[dict]:
    path = results / "codes-vs-pixels.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def codes_chart(runs: list[dict], save_figure) -> str:
    """Accuracy on codes against epochs, one panel per data set and size; the pixels as a dashed line."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    groups: dict[tuple, list[dict]] = {}
    for run in runs:
        groups.setdefault((run["setting"]["data"], run["train_images"], is_variant(run)), []).append(run)
    keys = sorted(groups, key=lambda k: (k[0] != "mnist5k", k[0], k[1], k[2]))
    columns = min(3, len(keys))
    rows = -(-len(keys) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.8 * rows), squeeze=False)
    for ax in axes.flat[len(keys):]:
        ax.set_axis_off()
    for ax, key in zip(axes.flat, keys):
        if key[2]:  # the seed's own settings, for reference
            for run in groups.get((key[0], key[1], False), []):
                ax.plot([p["epoch"] for p in run["curve"]], [100 * p["accuracy"] for p in run["curve"]], color="0.7",
                        linewidth=1, label=f"{run['label']} (seed 004's settings)")
        for run in groups[key]:
            epochs = [0] + [p["epoch"] for p in run["curve"]]
            accuracy = [None] + [100 * p["accuracy"] for p in run["curve"]]
            ax.plot(epochs[1:], accuracy[1:], marker="o", markersize=3, label=run["label"])
        ax.axhline(100 * groups[key][0]["pixel_accuracy"], color="black", linestyle="--", label="pixels")
        data = "MNIST digits (mnist5k)" if key[0] == "mnist5k" else key[0]
        ax.set_title(f"{data}, {key[1]:,} training images" + (": variants" if key[2] else ""), fontsize=10)
        ax.set_xscale("log")
        epochs = sorted({p["epoch"] for run in groups[key] for p in run["curve"]})
        ax.set_xticks(epochs, [str(e) for e in epochs], minor=False)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("epochs (batch 1024 unless labelled)")
        ax.set_ylabel("nearest-centroid test accuracy, %")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return save_figure(figure, "codes_vs_pixels")


def is_variant(run: dict) -> bool:
    """A change within the seed's spirit: another weight decay, contrastive weight, code size or batch."""
    s = run["setting"]
    return (s["weight_decay"], s["latent_dim"], s["batch_size"]) != (1e-8, 50, 1024) or s["contrastive_weight"] not in (0, 0.01)


def size_chart(runs: list[dict], save_figure, epoch: int = 10) -> str | None:
    """Accuracy on codes after ``epoch`` epochs against the training-set size (Fashion-MNIST), pixels as a line."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    fashion = [r for r in runs if r["setting"]["data"] == "fashion-mnist" and not is_variant(r)]
    sizes = sorted({r["train_images"] for r in fashion})
    if len(sizes) < 2:
        return None
    figure, ax = plt.subplots(figsize=(5.5, 3.8))
    for label in sorted({r["label"] for r in fashion}):
        points = [(r["train_images"], p["accuracy"]) for r in fashion if r["label"] == label
                  for p in r["curve"] if p["epoch"] == epoch]
        ax.plot([n for n, _ in sorted(points)], [100 * a for _, a in sorted(points)], marker="o", label=f"codes, {label}")
    pixels = sorted({(r["train_images"], r["pixel_accuracy"]) for r in fashion})
    ax.plot([n for n, _ in pixels], [100 * a for _, a in pixels], "k--", label="pixels")
    ax.set_xscale("log")
    ax.set_xticks(sizes, [f"{n // 1000}k" for n in sizes])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("training images (Fashion-MNIST)")
    ax.set_ylabel("test accuracy, %")
    ax.set_title(f"nearest centroid after {epoch} epochs at batch 1024", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(figure, "codes_vs_size")


def codes_table(runs: list[dict]) -> str:
    rows = []
    for run in sorted(runs, key=lambda r: (r["setting"]["data"] != "mnist5k", r["setting"]["data"], r["train_images"])):
        best = max(run["curve"], key=lambda p: p["accuracy"])
        last = run["curve"][-1]
        overtakes = next((p["epoch"] for p in run["curve"] if versus(p["accuracy"], run["pixel_accuracy"]) == "above"), None)
        level = next((p["epoch"] for p in run["curve"] if versus(p["accuracy"], run["pixel_accuracy"]) != "below"), None)
        rows.append([run["setting"]["data"], f"{run['train_images']:,}", run["label"],
                     f"{100 * run['pixel_accuracy']:.1f} %",
                     ", ".join(f"{p['epoch']}: {100 * p['accuracy']:.1f}" for p in run["curve"]),
                     f"{100 * best['accuracy']:.1f} % (epoch {best['epoch']})", f"{last['test_mse']:.4f}",
                     f"from epoch {overtakes}" if overtakes else f"level from epoch {level}" if level else "never",
                     f"{run['seconds_per_epoch']:.2f}"])
    return table(["data", "training images", "run", "pixels", "codes, % at epoch", "best codes", "final test MSE",
                  "codes beat pixels (by over 1 point)", "s/epoch (1 thread, shared CPU)"], rows)


def section_full(full: dict | None, results: Path, save_figure) -> str:
    lines = ["## 6. The full profile: the seeds' schedules", ""]
    if full is None:
        lines += ["Not measured (section skipped in this run).", ""]
    else:
        runs = full["runs"]
        lines += [
            "Every solved notebook top to bottom with `COURSE_PROFILE=full` (helpers.profile: the seeds' own "
            "schedules, e.g. seed 004's 500 epochs at batch 1024 and seed 000's 30 epochs, on all the training data "
            f"present) on the CPU ({full['machine']['cpu']}, {full['machine']['date']}, 1-minute load average "
            f"{full['machine'].get('load_average', '?')} at the start) with `COURSE_DATA=mnist5k`, one torch thread. "
            "These are MNIST digits, but 4,000 "
            "for training and 1,000 for testing where the seeds had 60,000 and 10,000: the column \"meets\" compares "
            "with the seeds' numbers, which were measured on all of MNIST (the seeds' targets belong to full MNIST, "
            "on Colab; this machine has no internet).",
            "",
            table(["notebook", "wall time, full profile", "failed cells"],
                  [[f"`{r['notebook']}`", f"{r['seconds']:.0f} s", "; ".join(r["failures"]) or "none"] for r in runs]),
            "",
            table(["metric", "seed", "where the seed number is from", "ours, full profile, mnist5k", "meets the seed"],
                  [[label, fmt(seed, key), where, fmt(metric(runs, nb, key), key),
                    meets(metric(runs, nb, key), seed, higher)] for label, seed, where, nb, key, higher in TARGETS]),
            "",
        ]
    lines += fashion_full(results)
    codes = codes_runs(results)
    lines += ["### When do the codes beat the pixels? (seed 004's lesson)", ""]
    if not codes:
        lines += ["Not measured: run `python benchmarks/run.py --sections codes` (about an hour on one core).", ""]
    else:
        lines += [
            "Seed 004's autoencoder, loss and optimizer (Adam 1e-3, weight decay 1e-8, MSE, batch 1024), trained "
            "once per setting (one seed: differences of a point or two are within run-to-run noise), plain and with "
            "seed 004's contrastive term (weight 0.01, tau 0.5); the nearest-centroid test accuracy on the codes at "
            "each checkpoint, against the accuracy on the pixels (dashed). `benchmarks/codes_vs_pixels.py`.",
            "",
            codes_chart(codes, save_figure),
            "",
            *([chart, ""] if (chart := size_chart(codes, save_figure)) else []),
            codes_table(codes),
            "",
        ]
    lines += lessons(full, codes)
    lines += section_bf16(full)
    return "\n".join(lines)


def versus(accuracy: float, pixels: float) -> str:
    """above / below / level with: within one point (10 test digits in 1,000) one run cannot tell."""
    if abs(accuracy - pixels) < 0.01:
        return "level with"
    return "above" if accuracy > pixels else "below"


def lessons(full: dict | None, codes: list[dict]) -> list[str]:
    """Which of the seeds' lessons hold on which data, each stated from the measurements above."""
    items = []
    runs = (full or {}).get("runs", [])
    m = {key: metric(runs, nb, key) for nb, key in (("01", "kmeans_ae"), ("01", "kmeans_pixels"), ("03", "kmeans_mu"),
                                                   ("01", "ae_mse_test_mse"), ("01", "pca_k10_test_mse"))}
    if m["ae_mse_test_mse"] is not None and m["pca_k10_test_mse"] is not None:
        items.append(f"An MLP autoencoder's 10 numbers keep more of a digit than PCA's 10 (seed 000): "
                     f"{'holds' if m['ae_mse_test_mse'] < m['pca_k10_test_mse'] else 'does not hold'} on mnist5k, "
                     f"test MSE {m['ae_mse_test_mse']:.4f} against {m['pca_k10_test_mse']:.4f}.")
    if m["kmeans_ae"] is not None and m["kmeans_pixels"] is not None:
        items.append(f"k-means finds the digits better in the autoencoder's codes than in the pixels (seed 000: 0.619 "
                     f"against 0.542): {'holds' if m['kmeans_ae'] > m['kmeans_pixels'] else 'does not hold'} on "
                     f"mnist5k in the full profile, {m['kmeans_ae']:.3f} against {m['kmeans_pixels']:.3f}.")
    if m["kmeans_mu"] is not None and m["kmeans_pixels"] is not None:
        items.append(f"...and better still in a VAE's means (seed 000: 0.712): "
                     f"{'holds' if m['kmeans_mu'] > m['kmeans_pixels'] else 'does not hold'} on mnist5k, "
                     f"{m['kmeans_mu']:.3f} against {m['kmeans_pixels']:.3f} on pixels.")
    settings: dict[tuple, dict[str, dict]] = {}
    for run in codes:
        if not is_variant(run):
            settings.setdefault((run["setting"]["data"], run["train_images"]), {})[run["label"]] = run
    for (data, size), pair in sorted(settings.items(), key=lambda kv: (kv[0][0] != "mnist5k", kv[0])):
        plain, contrastive = pair.get("plain"), pair.get("contrastive 0.01")
        if plain is None:
            continue
        pixels = plain["pixel_accuracy"]
        best = max(p["accuracy"] for p in plain["curve"])
        text = (f"{data}, {size:,} training images, {plain['curve'][-1]['epoch']} epochs: the plain codes "
                f"{ {'above': 'beat', 'below': 'stay below', 'level with': 'draw level with'}[versus(best, pixels)]} "
                f"the pixels (best {100 * best:.1f} % against "
                f"{100 * pixels:.1f} %)")
        if contrastive is not None:
            last = contrastive["curve"][-1]
            plain_last = next((p for p in plain["curve"] if p["epoch"] == last["epoch"]), plain["curve"][-1])
            text += (f"; the contrastive term adds {100 * (last['accuracy'] - plain_last['accuracy']):+.1f} points "
                     f"at epoch {last['epoch']} ({100 * last['accuracy']:.1f} %, "
                     f"{versus(last['accuracy'], pixels)} the pixels)")
        items.append(text + ".")
    if not items:
        return []
    return ["### Which of the seeds' lessons hold, and on which data", "", *[f"- {i}" for i in items], ""]


def run_means(times: list[float], per_run: int) -> list[float]:
    """The mean of each run's timed epochs (``per_run`` of them, in order)."""
    return [sum(times[i:i + per_run]) / per_run for i in range(0, len(times), per_run)]


def section_bf16(full: dict | None) -> list[str]:
    lines = ["### bf16 on the CPU", ""]
    b = (full or {}).get("bf16")
    if b is None:
        return lines + ["Not measured in this run.", ""]
    if "not_available" in b:
        return lines + [f"`fit(..., precision=\"bf16\")` on {b['cpu']}: not available ({b['not_available']}).", ""]
    return lines + [
        f"`fit(..., precision=\"bf16\")` (bfloat16 autocast of the forward pass; weights, optimizer and validation in "
        f"float32) against float32 on {b['cpu']}, which has bf16 instructions: seed 004's autoencoder, batch 1024, "
        f"{b['samples']:,} full-size images, {b['epochs']} epochs per run (the first not timed), the two alternating, "
        "one torch thread; seconds scaled to 60,000 images.",
        "",
        table(["precision", "s per epoch (60k), median (timed epochs)", "speed-up", f"test MSE after {b['epochs']} epochs"],
              [["float32", f"{b['fp32_epoch_s']:.2f} ({', '.join(f'{t:.1f}' for t in b['runs']['fp32'])})", "1.0x",
                f"{b['fp32_test_mse']:.4f}"],
               ["bf16 autocast", f"{b['bf16_epoch_s']:.2f} ({', '.join(f'{t:.1f}' for t in b['runs']['bf16'])})",
                f"**{b['speedup']}x**", f"{b['bf16_test_mse']:.4f}"]]),
        "",
        "The single epochs vary several-fold: other jobs loaded this shared 2-core CPU during the run. Per run "
        "(the mean of its timed epochs), float32 against bf16: " + "; ".join(
            f"{f:.1f} s against {h:.1f} s" for f, h in zip(run_means(b["runs"]["fp32"], b["epochs"] - 1),
                                                           run_means(b["runs"]["bf16"], b["epochs"] - 1))) + ".",
        "",
        "Opt-in only: off by default and never while grading (the graded thresholds were measured in float32). "
        "On a CPU without bf16 instructions `precision=\"bf16\"` stops with a message instead of running emulated "
        "(section 1's bf16 row on such a CPU: several times slower).",
        "",
    ]


def section_gpu(gpu: dict | None) -> str:
    lines = ["## 7. The GPU check (`benchmarks/gpu/`)", ""]
    if gpu is None:
        return "\n".join(lines + [f"CUDA: {NOT_LENT}.", "",
                                  "What the prepared run does, in 8 minutes on one H100/H200: see the docstring of "
                                  "`benchmarks/gpu/run`; `make test` runs both scripts in a dry-run mode on the CPU.", ""])
    env = gpu.get("environment", {})
    lines += [f"One run of `benchmarks/gpu/run` on {env.get('gpu') or '?'} (torch {env.get('torch', '?')}, "
              f"Python {env.get('python', '?')}), {gpu.get('elapsed_s', '?')} s of its {gpu.get('budget_s')} s budget.", ""]
    lines += [table(["stage", "status", "seconds"],
                    [[name, s["status"], s.get("seconds", "—")] for name, s in gpu["stages"].items()]), ""]
    g = gpu.get("grading")
    if g:
        lines += [f"- grading with `--device {g['device']}`, {g['how']}: grades {g['grades']}, expected {g['expected']}: "
                  f"{'all as expected' if g['all_as_expected'] else '**not as expected**'} ({g['seconds']} s)."]
    f = gpu.get("fairness")
    if f:
        lines += [f"- the catalogue's correct answers graded with COURSE_DEVICE={f['device']}: "
                  f"{'all keep full marks' if f['all_full_marks'] else '**some lost marks**'} ({f['seconds']} s)."]
    return "\n".join(lines + [""])
