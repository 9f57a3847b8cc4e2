"""Worker figures: engine start time, message transfer speed, tokens/s of each engine next to the port.

    .venv/bin/python scripts/bench_worker.py --epochs 2          # the notebook config (bi-LSTM 2x256)

Runs one side at a time (never two computing at once: MXNet's OpenMP threads collapse on a
shared CPU). Prints one line per figure; speeds are also given as ratios to the port's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from djl_bridge.config import RunConfig
from djl_bridge.data import resolve_data_file


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=10000)
    ap.add_argument("--starts", type=int, default=3, help="worker starts timed per engine (best is reported)")
    args = ap.parse_args(argv)
    data: Path = resolve_data_file()
    from djl_bridge.params import seeded_model, to_djl
    from djl_bridge.parity.cross_engine import port_config
    from djl_bridge.sides import worker
    from djl_bridge.trace import python_data, python_run

    for engine in ("mxnet", "pytorch-native"):
        starts = [worker.engine_status(engine) for _ in range(args.starts)]
        best = min(starts, key=lambda s: s.spawn_to_started_s)
        print(
            f"{engine}: worker start (spawn to engine ready) best of {args.starts}: {best.spawn_to_started_s:.2f} s "
            f"(JVM {best.jvm_s:.2f} s)"
        )
    cfg = RunConfig(epochs=args.epochs, max_tokens=args.max_tokens, offset=0, device="cpu").resolved()
    speeds = {}
    python = python_data(cfg, data, 0)
    init = to_djl(seeded_model(cfg.model, len(python.vocab), cfg.hidden, cfg.layers, cfg.seed))
    python_run(python, port_config(cfg, "mxnet"), data, init, 1)  # one side at a time
    speeds["port (parity, MXNet layout)"] = python.speeds[-1]
    for engine in ("mxnet", "pytorch-native"):
        run_cfg = cfg if engine == "mxnet" else RunConfig(**{**cfg.as_dict(), "layout_fix": True})
        wt = worker.trace(engine, run_cfg, data, init, 1)
        s = wt.stats
        print(
            f"{engine}: request {s.request_bytes / 1e6:.1f} MB written "
            f"{s.request_bytes / s.request_write_s / 1e9:.2f} GB/s, "
            f"read {s.request_bytes / s.request_read_s / 1e9:.2f} GB/s; response {s.response_bytes / 1e6:.1f} MB "
            f"written {s.response_bytes / s.response_write_s / 1e9:.2f} GB/s, read "
            f"{s.response_bytes / s.response_read_s / 1e9:.2f} GB/s; overall {s.transfer_gb_s():.2f} GB/s"
        )
        speeds[f"java on {engine} (worker)"] = wt.trace.speeds[-1]
    ref = speeds["port (parity, MXNet layout)"]
    for name, v in speeds.items():
        print(f"tokens/s, last of {args.epochs} epochs, notebook config: {name}: {v:,.0f} (x{v / ref:.2f} of the port)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
