"""Section 6 (full profile): every solved notebook with COURSE_PROFILE=full on mnist5k on the CPU, and bf16 on the CPU.

The full profile follows the seeds' own schedules (helpers.profile: seed 004's 500 epochs at
batch 1024, seed 000's 30 epochs, ...) on all the training data present: here the 4,000 offline
digits, so its numbers compare with the seeds' only as far as 4,000 digits can. Each notebook
runs top to bottom in a fresh kernel with one torch thread, its ``results`` dict read at the end.

bf16: ``fit(..., precision="bf16")`` against float32 on seed 004's autoencoder (20,000 full-size
images, the two alternating, one thread): seconds per epoch and the test MSE after the same
epochs, where the CPU has bf16 instructions; "not available" where it has not.

    python benchmarks/bench_full.py [--notebooks 04-latent-classifier-contrastive] [--skip-bf16]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from common import machine, save, say  # noqa: I001 (sets sys.path for helpers)

import torch
from torch import nn

import bench_notebooks
import bench_train
import train_loop
from helpers import evaluate, fit, seed_everything
from helpers.device import bf16_supported


def full_profile_notebooks(names: list[str] | None, timeout: int, threads: int, data: str = "mnist5k") -> list[dict]:
    """Each notebook (or those named) with COURSE_PROFILE=full on ``data``, CPU."""
    paths = [p for p in bench_notebooks.notebooks() if not names or p.parent.name in names]
    os.environ["COURSE_PROFILE"] = "full"
    try:
        return bench_notebooks.run_set(paths, data, "cpu", None, timeout, threads)
    finally:
        os.environ.pop("COURSE_PROFILE")


def bf16_comparison(samples: int = 20_000, epochs: int = 3, repeats: int = 2) -> dict:
    """fp32 vs precision="bf16" on seed 004's model: warm seconds per epoch (scaled to 60k) and test MSE."""
    available = bf16_supported("cpu")
    result = {"cpu": machine()["cpu"], "bf16_instructions": available, "samples": samples, "epochs": epochs}
    if not available:
        return {**result, "not_available": "this CPU has no bf16 instructions (AVX512-BF16, AMX or ARM BF16)"}
    _, _, x_train, x_test = bench_train.full_size_data(torch.device("cpu"))
    x_train = x_train[:samples]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    times: dict[str, list[float]] = {"fp32": [], "bf16": []}
    quality: dict[str, float] = {}
    try:
        for _ in range(repeats):
            for precision in ("fp32", "bf16"):  # alternating: both see the same load on a shared CPU
                seed_everything(0)
                model = train_loop.seed_004_autoencoder()
                optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
                for epoch in range(epochs):
                    start = time.perf_counter()
                    fit(model, x_train, nn.MSELoss(), num_epochs=1, batch_size=1024, optimizer=optimizer,
                        progress=False, precision=precision)
                    if epoch:  # the first epoch warms up the allocator (and oneDNN's bf16 kernels)
                        times[precision].append((time.perf_counter() - start) * 60_000 / samples)
                quality[precision] = evaluate(model, x_test, nn.MSELoss())
    finally:
        torch.set_num_threads(threads)
    fp32, bf16 = statistics.median(times["fp32"]), statistics.median(times["bf16"])
    say(f"  bf16: {bf16:.2f} s per 60k epoch vs fp32 {fp32:.2f} s: {fp32 / bf16:.2f}x; test MSE "
        f"{quality['bf16']:.4f} vs {quality['fp32']:.4f}")
    return {**result, "fp32_epoch_s": round(fp32, 3), "bf16_epoch_s": round(bf16, 3), "speedup": round(fp32 / bf16, 2),
            "fp32_test_mse": round(quality["fp32"], 5), "bf16_test_mse": round(quality["bf16"], 5),
            "threads": 1, "runs": times}


def run(names: list[str] | None = None, bf16: bool = True, timeout: int = 1800, threads: int = 1,
        data: str = "mnist5k") -> dict:
    """Saved as bench-full.json (mnist5k, what section 6 reports) or bench-full-<data>.json (other data)."""
    result = {"machine": machine(), "threads": threads, "profile": "full", "data": data}
    if bf16:
        say("section 6: fit in bf16 against float32 on the CPU")
        result["bf16"] = bf16_comparison()
    say(f"section 6: {'every notebook' if not names else ', '.join(names)} in the full profile, COURSE_DATA={data}, CPU")
    result["runs"] = full_profile_notebooks(names, timeout, threads, data)
    save("full" if data == "mnist5k" else f"full-{data}", result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", nargs="*", help="only these (default: all four)")
    parser.add_argument("--skip-bf16", action="store_true")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--data", default="mnist5k", help="COURSE_DATA (default mnist5k; fashion-mnist: full size)")
    args = parser.parse_args(argv)
    run(args.notebooks, not args.skip_bf16, args.timeout, data=args.data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
