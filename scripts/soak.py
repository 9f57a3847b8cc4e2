"""Soak: train each side for many epochs and watch memory; exit 1 if either grows after warm-up.

Samples, after every epoch, the process's resident set size (VmRSS, after ``malloc_trim(0)`` hands
the C heap's free pages back, so that it counts live memory rather than the allocator's cache)
and, on the Java side, the JVM's used heap after a full collection. From epoch ``--warmup`` on,
neither may grow more than ``--limit`` (5%) above its value at that epoch. Each side runs in a
process of its own. Not a test: it takes minutes.

    .venv/bin/python scripts/soak.py                # notebook config (--layout-fix), 200 epochs a side
    .venv/bin/python scripts/soak.py --epochs 50 --max-tokens 3000
"""

from __future__ import annotations

import argparse
import ctypes
import json
import subprocess
import sys
import time

from djl_bridge.config import RunConfig, validated
from djl_bridge.data import resolve_data_file


def rss_mib() -> float:
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/status") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return kib / 1024


def java_heap_mib() -> float:
    from djl_bridge.jvm import jclass

    jclass("java.lang.System").gc()
    runtime = jclass("java.lang.Runtime").getRuntime()
    return (int(runtime.totalMemory()) - int(runtime.freeMemory())) / 2**20


def soak(side: str, cfg: RunConfig, data, warmup: int) -> dict:
    from djl_bridge import runs
    from djl_bridge.jvm.djl_side import run_djl

    samples: dict[str, list[float]] = {"rss_mib": [], **({"java_heap_mib": []} if side == "djl" else {})}
    t0 = time.perf_counter()

    def on_epoch(epoch: int, ppl: float, speed: float) -> None:
        samples["rss_mib"].append(rss_mib())
        if side == "djl":
            samples["java_heap_mib"].append(java_heap_mib())
        if epoch % 10 == 0 or epoch == cfg.epochs:
            now = ", ".join(f"{k} {v[-1]:.1f}" for k, v in samples.items())
            print(f"{side}: epoch {epoch}/{cfg.epochs}  ppl {ppl:.2f}  {speed:,.0f} tok/s  {now}", file=sys.stderr)

    (runs.run_python if side == "python" else run_djl)(cfg, data, on_epoch)
    result = {"side": side, "epochs": cfg.epochs, "seconds": round(time.perf_counter() - t0, 1)}
    for name, values in samples.items():
        base = values[warmup - 1]
        peak = max(values[warmup - 1 :])
        result[name] = {
            "at_warmup": round(base, 1),
            "peak_after": round(peak, 1),
            "final": round(values[-1], 1),
            "growth": round(peak / base - 1, 4),
        }
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10, help="the epoch whose memory is the baseline")
    ap.add_argument("--limit", type=float, default=0.05, help="largest allowed growth after warm-up")
    ap.add_argument("--model", default="bilstm")
    ap.add_argument("--max-tokens", type=int, default=10000)
    ap.add_argument("--sides", default="python,djl", help="comma-separated; each runs in a process of its own")
    args = ap.parse_args()
    sides = args.sides.split(",")
    if len(sides) > 1:
        results = []
        for side in sides:
            cmd = [sys.executable, __file__, *sys.argv[1:], "--sides", side]
            results += json.loads(subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout)
    else:
        data = resolve_data_file()
        cfg = validated(
            RunConfig(
                model=args.model,
                epochs=args.epochs,
                max_tokens=args.max_tokens,
                offset=0,
                device="cpu",
                layout_fix=args.model == "bilstm",
            ),
            data,
        )
        results = [soak(sides[0], cfg, data, args.warmup)]
    print(json.dumps(results, indent=2))
    grown = [
        (r["side"], k, r[k]["growth"])
        for r in results
        for k in ("rss_mib", "java_heap_mib")
        if k in r and r[k]["growth"] > args.limit
    ]
    for side, what, growth in grown:
        print(
            f"soak: {side} {what} grew {growth:.1%} after epoch {args.warmup} (limit {args.limit:.0%})", file=sys.stderr
        )
    return 1 if grown else 0


if __name__ == "__main__":
    sys.exit(main())
