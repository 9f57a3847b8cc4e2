"""Soak: train each side for many epochs and watch its memory; exit 1 if any grows after the warm-up.

Sides: the port (in a process of its own), and our Java helpers on DJL's PyTorch engine and on
DJL 0.23 + MXNet, each in its worker process, as every command runs them. After every epoch each
side samples its own resident set size (VmRSS after ``malloc_trim(0)``, so that it counts live
memory rather than the allocator's cache) and, on a Java side, the JVM's used heap after a full
collection (``djl_bridge/memory.py``). From epoch ``--warmup`` on, neither may grow more than
``--limit`` (5 %) above its value at that epoch: the level at the end (the median of the last 10
epochs) is what counts; the peak and its epoch are reported too. Not a test: it takes many minutes.

    .venv/bin/python scripts/soak.py                       # the notebook's bi-LSTM, 200 epochs a side
    .venv/bin/python scripts/soak.py --threads 1 --sides port,mxnet
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace

from djl_bridge.config import RunConfig, validated
from djl_bridge.data import resolve_data_file
from djl_bridge.trace import Request

SIDES = ("port", "pytorch", "mxnet")


def growth(values: list[float], warmup: int) -> dict:
    """Growth is the level at the end (the median of the last 10 epochs) against the value at the warm-up
    epoch; a transient peak (an allocator's arena, a collection not yet run) is reported, not counted."""
    base = values[warmup - 1]
    after = values[warmup - 1 :]
    end = statistics.median(values[-10:])
    peak = max(after)
    return {"at_warmup": round(base, 1), "end_level": round(end, 1), "growth": round(end / base - 1, 4),
            "peak_after": round(peak, 1), "peak_epoch": warmup + after.index(peak), "samples": values}  # fmt: skip


def soak_port(cfg: RunConfig, data, warmup: int) -> dict:
    """The port in this process, its RSS after every epoch."""
    from djl_bridge.memory import rss_mib
    from djl_bridge.sides import port

    rss: list[float] = []

    def on_epoch(epoch: int, ppl: float, speed: float) -> None:
        rss.append(rss_mib())
        if epoch % 10 == 0 or epoch == cfg.epochs:
            print(
                f"port: epoch {epoch}/{cfg.epochs}  ppl {ppl:.2f}  {speed:,.0f} tok/s  RSS {rss[-1]:.1f}",
                file=sys.stderr,
            )

    port.run(Request(cfg, str(data), full_steps=0), on_epoch)
    return {"rss_mib": growth(rss, warmup)}


def soak_java(engine: str, cfg: RunConfig, data, warmup: int) -> dict:
    """Our helpers on ``engine`` in a worker that samples its own memory after every epoch."""
    from djl_bridge.sides.worker import run_worker

    samples: dict[str, list[float]] = {"rss_mib": [], "java_heap_mib": []}

    def on_event(event: dict) -> None:
        if event.get("event") != "epoch":
            return
        for key in samples:
            samples[key].append(event[key])
        if event["epoch"] % 10 == 0 or event["epoch"] == cfg.epochs:
            now = ", ".join(f"{k} {v[-1]:.1f}" for k, v in samples.items())
            print(f"{engine}: epoch {event['epoch']}/{cfg.epochs}  {event['speed']:,.0f} tok/s  {now}", file=sys.stderr)

    request = {"op": "run", "memory": True, "request": Request(cfg, str(data), full_steps=0)}
    run_worker(engine, request, on_event, timeout=3600)
    return {k: growth(v, warmup) for k, v in samples.items()}


def one_side(side: str, args: argparse.Namespace) -> dict:
    data = resolve_data_file()
    cfg = RunConfig(model=args.model, epochs=args.epochs, max_tokens=args.max_tokens, offset=0, device="cpu")
    cfg = validated(cfg, data, sides=1)
    t0 = time.perf_counter()
    if side == "port":
        result = soak_port(cfg, data, args.warmup)
    else:  # the published bi-LSTM trains on DJL's PyTorch engine only with the layout fix
        result = soak_java(
            side, replace(cfg, layout_fix=side == "pytorch" and cfg.model == "bilstm"), data, args.warmup
        )
    return {"side": side, "epochs": cfg.epochs, "seconds": round(time.perf_counter() - t0, 1), **result}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10, help="the epoch whose memory is the baseline")
    ap.add_argument("--limit", type=float, default=0.05, help="largest allowed growth after warm-up")
    ap.add_argument("--model", default="bilstm")
    ap.add_argument("--max-tokens", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=0, help="compute threads per side (0: every CPU)")
    ap.add_argument("--sides", default=",".join(SIDES), help="comma-separated; each runs in a process of its own")
    args = ap.parse_args()
    sides = args.sides.split(",")
    if args.threads:
        os.environ.update(DJL_PARITY_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))
    if len(sides) > 1:
        results = []
        for side in sides:
            cmd = [sys.executable, __file__, *sys.argv[1:], "--sides", side]
            out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True).stdout  # exit 1 (growth) still reports
            results += json.loads(out) if out.strip() else [{"side": side, "error": "the side did not finish"}]
    else:
        results = [one_side(sides[0], args)]
    print(json.dumps(results, indent=2))
    grown = [(r["side"], k, r[k]["growth"]) for r in results for k in ("rss_mib", "java_heap_mib")
             if k in r and r[k]["growth"] > args.limit]  # fmt: skip
    for side, what, g in grown:
        print(f"soak: {side} {what} grew {g:.1%} after epoch {args.warmup} (limit {args.limit:.0%})", file=sys.stderr)
    return 1 if grown else 0


if __name__ == "__main__":
    sys.exit(main())
