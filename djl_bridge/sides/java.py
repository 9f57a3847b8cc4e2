"""Our Java helpers on a DJL engine as a side, always in a worker process: a request in, a trace out.

The parent never starts a JVM: the worker (``sides/worker.py``) runs ``jvm/helpers.py`` on the
engine asked for (``pytorch``: DJL 0.35.1 on this environment's own libtorch files, the port's;
``pytorch-native``: DJL's libtorch build; ``mxnet``: DJL 0.23 + MXNet 1.9). A Java exception inside
the run is part of the trace (``Trace.failure``); a worker that crashes, hangs or cannot start its
engine raises :class:`~djl_bridge.sides.worker.WorkerFailed`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from djl_bridge.sides import wire
from djl_bridge.sides.worker import WorkerStats, epoch_events, run_worker
from djl_bridge.trace import Request, Trace

EpochCallback = Callable[[int, float, float], None]


def worker_costs(stats: WorkerStats) -> dict[str, float]:
    """What running in a worker cost: its start (spawn to engine ready, of which the JVM) and its messages."""
    return {
        "worker_start_s": stats.spawn_to_started_s,
        "jvm_start_s": stats.jvm_s,
        "transfer_MB": (stats.request_bytes + stats.response_bytes) / 1e6,
        "transfer_GBps": stats.transfer_gb_s(),
    }


def run(
    request: Request,
    engine: str,
    on_epoch: EpochCallback | None = None,
    timeout: float | None = None,
    threads: int | None = None,
) -> Trace:
    """Our helpers on ``engine`` as ``request`` asks, in a fresh worker; the trace with the worker's costs."""
    body, stats = run_worker(engine, {"op": "run", "request": request}, epoch_events(on_epoch), timeout, threads)
    trace = wire.rebuild(Trace, body["trace"])
    environment = {**trace.environment, "torch imported in the worker": str(body["torch_imported"])}
    return replace(trace, environment=environment, costs=worker_costs(stats))
