"""Benchmark, in one process and one run: JVM start, numpy ⇄ NDArray copy speed, and the notebook
config's training speed on the Python port (parity and fast modes, CPU and CUDA when present) and
on DJL. Speeds are compared as ratios within this run, never against fixed numbers.

    .venv/bin/python scripts/bench.py [--epochs 3] [--max-tokens 10000] [--json bench.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np


def copy_speeds(repeats: int = 5, megabytes: int = 10) -> dict[str, float]:
    from djl_bridge import jvm

    manager = jvm.jclass("ai.djl.ndarray.NDManager").newBaseManager()
    a = np.random.default_rng(0).standard_normal(megabytes * 2**20 // 4).astype(np.float32)
    into, out = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        nd = jvm.to_ndarray(manager, a)
        into.append(time.perf_counter() - t)
        t = time.perf_counter()
        back = jvm.to_numpy(nd)
        out.append(time.perf_counter() - t)
        assert back.tobytes() == a.tobytes()
        nd.close()
    manager.close()
    return {"numpy_to_ndarray_GBps": a.nbytes / min(into) / 1e9, "ndarray_to_numpy_GBps": a.nbytes / min(out) / 1e9}


def steady_speed(speeds: list[float]) -> float:
    """Median tokens/s of the epochs after the first (the first pays for warm-up)."""
    return statistics.median(speeds[1:] if len(speeds) > 1 else speeds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=10000)
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()

    import torch

    from djl_bridge import jvm
    from djl_bridge.config import RunConfig
    from djl_bridge.data import resolve_data_file
    from djl_bridge.jvm.djl_side import run_djl
    from djl_bridge.runs import run_python

    info = jvm.start()
    figures: dict[str, float | str] = {"jvm_start_s": info.started_in_s, "threads": torch.get_num_threads()}
    figures.update(copy_speeds())
    data = resolve_data_file()
    base = RunConfig(epochs=args.epochs, max_tokens=args.max_tokens, offset=0, layout_fix=True)
    runs = {"python parity cpu": (run_python, dict(mode="parity", device="cpu")),
            "python fast cpu": (run_python, dict(mode="fast", device="cpu")),
            "djl cpu": (run_djl, dict(device="cpu"))}
    if torch.cuda.is_available():
        figures["cuda_device"] = torch.cuda.get_device_name(0)
        runs["python parity cuda"] = (run_python, dict(mode="parity", device="cuda"))
        runs["python fast cuda"] = (run_python, dict(mode="fast", device="cuda"))
    for name, (fn, overrides) in runs.items():
        cfg = RunConfig(**{**base.as_dict(), **overrides})
        result = fn(cfg, data, None)
        figures[f"{name} tokens/s"] = steady_speed(result.speeds)
        print(f"{name:<22} {figures[f'{name} tokens/s']:>12,.0f} tokens/s  (ppl {result.perplexities[-1]:.3f})",
              flush=True)
    par = figures["python parity cpu tokens/s"]
    figures["ratio fast/parity cpu"] = figures["python fast cpu tokens/s"] / par
    figures["ratio djl/python-parity cpu"] = figures["djl cpu tokens/s"] / par
    if "python parity cuda tokens/s" in figures:
        figures["ratio cuda/cpu parity"] = figures["python parity cuda tokens/s"] / par
    print(f"JVM start {info.started_in_s:.2f} s; numpy→NDArray {figures['numpy_to_ndarray_GBps']:.2f} GB/s, "
          f"NDArray→numpy {figures['ndarray_to_numpy_GBps']:.2f} GB/s (10 MB float32)")
    for key in [k for k in figures if k.startswith("ratio")]:
        print(f"{key}: {figures[key]:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"config": base.resolved().as_dict(), **figures}, f, indent=2)


if __name__ == "__main__":
    main()
