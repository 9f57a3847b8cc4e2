"""`djl-parity compare`: our Java helpers on a DJL engine against the port, from one start, every stage.

The flow builds the requests, runs the sides (the Java side in a worker; one after the other, or at
once with half the threads each), measures the envelope across engines with two more port runs of
the same run (``parity/envelope.py``), and hands the traces to the judges. Nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from djl_bridge.concurrency import at_once, thread_budget, threads_here, with_threads
from djl_bridge.config import ConfigError, RunConfig
from djl_bridge.dataset import JavaRandom
from djl_bridge.parity.envelope import Envelope, measure, nudged
from djl_bridge.parity.report import Report
from djl_bridge.parity.verdicts import FUSED_RNN_MODELS, bands, judge_run
from djl_bridge.sides import cache, java, port
from djl_bridge.trace import Request, Trace

Progress = Callable[[str], None]
EpochProgress = Callable[[str, int, float, float], None]


def comparable(cfg: RunConfig, engine: str, init: str) -> RunConfig:
    """The run both sides make: on the CPU, sequential sampling, one dataset offset fixed for both."""
    if cfg.random_iter:
        raise ConfigError("compare follows the notebook's sequential sampling; drop --random-iter")
    if cfg.device == "cuda":
        raise ConfigError("compare runs both sides on the CPU; use `train --impl python --device cuda` for the GPU")
    if engine == "mxnet" and cfg.layout_fix:
        raise ConfigError(
            "--layout-fix is for DJL's PyTorch engines; on MXNet the notebook's bi-LSTM runs as published"
        )
    if init not in ("java", "python"):
        raise ConfigError(f"--init must be java or python, got {init!r}")
    cfg = cfg.resolved()
    offset = cfg.offset if cfg.offset is not None else JavaRandom(cfg.seed).next_int(cfg.num_steps)
    return replace(cfg, device="cpu", offset=offset)


def _requests(cfg: RunConfig, data: Path, engine: str, full: int) -> tuple[Request, Request]:
    probe = cfg.model == "bilstm" and not (engine == "pytorch" and not cfg.layout_fix)
    layout = engine == "mxnet" and cfg.model in FUSED_RNN_MODELS  # the models MXNet's fused RNN op runs
    port_request = Request(cfg.emulating(engine), str(data), full_steps=full, layout_logits=layout)
    return Request(cfg, str(data), full_steps=full, probe=probe), port_request


@dataclass(frozen=True)
class Sides:
    """The two traces of a comparison and, across engines, the envelope of the port's run."""

    java: Trace
    port: Trace
    envelope: Envelope | None = None
    reused: bool = False  # the envelope came from the cache


def _one_after_other(cfg, data, engine, init, full, say, on_epoch) -> Sides:
    """The two traces, the ``init`` side first (its own initial weights), the other side from them; then the
    envelope (with the Java side's weights: at once with the port's own run)."""
    java_request, port_request = _requests(cfg, data, engine, full)
    if init == "java":
        say(f"java ({engine} worker): data, initial weights from seed {cfg.seed}, train {cfg.epochs} epoch(s)")
        j = java.run(java_request, engine, lambda *e: on_epoch("java", *e))
        if j.failure is not None:  # nothing to start the port from: its data stages only
            return Sides(j, port.run(replace(port_request, config=replace(port_request.config, epochs=0))))
        say(f"python: the Java side's weights, train {cfg.epochs} epoch(s)")
        p, envelope, reused = port_and_envelope(engine, replace(port_request, init=j.init), say,
                                                lambda *e: on_epoch("python", *e))  # fmt: skip
        return Sides(j, p, envelope, reused)
    say(f"python: initial weights from seed {cfg.seed}, train {cfg.epochs} epoch(s)")
    p = port_side(engine)(port_request, lambda *e: on_epoch("python", *e))
    say(f"java ({engine} worker): the port's weights, train {cfg.epochs} epoch(s)")
    j = java.run(replace(java_request, init=p.init), engine, lambda *e: on_epoch("java", *e))
    return _with_envelope(j, p, port_request, engine, say)


def _with_envelope(j: Trace, p: Trace, port_request: Request, engine: str, say: Progress) -> Sides:
    if engine == "pytorch" or j.failure is not None:
        return Sides(j, p)
    return Sides(j, p, *envelope_of(p, port_request, say))


def _at_once(cfg, data, engine, init, full, say, on_epoch) -> Sides:
    """The two traces from two processes at once, each with half the threads, once the ``init`` side's
    initial weights are drawn (a Java run of no epochs, or the port's own draw)."""
    java_request, port_request = _requests(cfg, data, engine, full)
    say(f"{init}: initial weights from seed {cfg.seed}")
    if init == "java":
        start = java.run(replace(java_request, config=replace(cfg, epochs=0), probe=False), engine).init
    else:
        start = port.run(replace(port_request, config=replace(port_request.config, epochs=0))).init
    half = max(1, threads_here() // 2)
    say(f"java ({engine} worker) and python at once, {half} thread(s) each: train {cfg.epochs} epoch(s)")
    j, p = at_once(
        lambda: java.run(replace(java_request, init=start), engine, lambda *e: on_epoch("java", *e), threads=half),
        lambda: with_threads(
            half, port_side(engine), replace(port_request, init=start), lambda *e: on_epoch("python", *e)
        ),
    )
    return _with_envelope(j, p, port_request, engine, say)


def sides(concurrent: bool):
    """How the two sides run: at once (two processes, half the threads each), or one after the other."""
    return _at_once if concurrent else _one_after_other


def port_side(engine: str) -> Callable[..., Trace]:
    """The port as this comparison runs it: fresh next to DJL's PyTorch engine (the bits are the point), and
    reused from the cache of port runs next to another engine (``sides/cache.py``: a repeat is cheap)."""
    if engine == "pytorch":
        return port.run

    def run(request: Request, on_epoch=None) -> Trace:
        return cache.cached(cache.key(request, "trace"), Trace, lambda: port.run(request, on_epoch))[0]

    return run


def _share() -> int:
    """The torch threads each of the envelope's runs gets (they run at once)."""
    return max(1, threads_here() // 2)


def _perturbed(request: Request) -> dict[str, Request]:
    """The envelope's runs of ``request`` (it carries the run's initial weights)."""
    return {
        "nudged": replace(request, init=nudged(request.init, request.config.seed)),
        "fast, rows reversed": replace(request, config=replace(request.config, mode="fast"), reversed_rows=True),
    }


def _envelope_key(request: Request) -> str:
    with thread_budget(_share()):  # the runs' thread count is part of what they depend on
        return cache.key(request, "envelope")


def _measured(request: Request, reference: Trace | Callable[[], Trace], say: Progress) -> tuple[Trace, Envelope]:
    """The envelope's two runs of ``request`` at once, a share of the threads each, against ``reference``; a
    reference still to run (a task) runs at once with them."""
    say("python: the envelope of this run (the port from nudged weights; in fast mode with its rows reversed)")
    t0, runs, share = time.perf_counter(), _perturbed(request), _share()
    tasks = [lambda r=r: with_threads(share, port.run, r) for r in runs.values()]
    if callable(reference):
        reference, *traces = at_once(reference, *tasks)
    else:
        traces = at_once(*tasks)
    return reference, measure(reference, dict(zip(runs, traces)), time.perf_counter() - t0)


def envelope_of(reference: Trace, request: Request, say: Progress) -> tuple[Envelope, bool]:
    """The run's envelope: the port again from last-bit-nudged weights, and through fast-mode kernels with every
    batch's rows in reverse order, the two at once (kept in the cache under the run's own request); and
    whether it came from the cache."""
    request = replace(request, init=reference.init, layout_logits=False)
    return cache.cached(_envelope_key(request), Envelope, lambda: _measured(request, reference, say)[1])


def port_and_envelope(
    engine: str, request: Request, say: Progress, on_epoch=None
) -> tuple[Trace, Envelope | None, bool]:
    """The port's run of ``request`` (it carries the run's initial weights) and, across engines, the envelope of
    that run; next to MXNet its two runs go at once with the port's own (a share of the threads each). What the
    cache keeps is reused. Returns the trace, the envelope and whether the envelope came from the cache."""
    if engine != "mxnet":  # DJL on libtorch: the port's run with the Java side's threads (the same kernels, bits)
        reference = port_side(engine)(request, on_epoch)
        return (reference, None, False) if engine == "pytorch" else (reference, *envelope_of(reference, request, say))
    k = _envelope_key(replace(request, layout_logits=False))
    found = cache.load(k, Envelope)

    def own() -> Trace:  # the port's own run with the envelope's threads (the cache key holds the thread count)
        return with_threads(_share(), port_side(engine), request, on_epoch)

    if found is not None:
        return own(), found, True
    reference, envelope = _measured(replace(request, layout_logits=False), own, say)
    cache.store(k, envelope)
    return reference, envelope, False


def compare(
    cfg: RunConfig,
    data: Path,
    engine: str = "pytorch",
    init: str = "java",
    full_steps: int = 1,
    concurrent: bool = False,
    progress: Progress | None = None,
    epoch_progress: EpochProgress | None = None,
) -> Report:
    """Run the notebook on ``engine`` (our Java helpers, in a worker) and on the port from one start; judge it."""
    say = progress or (lambda _m: None)
    on_epoch = epoch_progress or (lambda *_a: None)
    cfg = comparable(cfg, engine, init)
    t0 = time.perf_counter()
    ran = sides(concurrent)(cfg, data, engine, init, full_steps, say, on_epoch)
    j, p, envelope = ran.java, ran.port, ran.envelope
    how = "at once, half the threads each" if concurrent else "one after the other"
    walls = {"wall time, both sides and the envelope": f"{time.perf_counter() - t0:.1f} s ({how})"}
    if envelope is not None:
        how = "reused from the cache, measured in" if ran.reused else "measured in"
        walls["envelope of this run"] = f"{how} {envelope.seconds:.1f} s (the port {len(envelope.runs)} more times)"
    results = judge_run(j, p, cfg, engine, envelope)
    return Report.of(
        f"{cfg.model}, {cfg.epochs} epoch(s), {engine}",
        {**cfg.as_dict(), "engine": engine},
        start_sentence(cfg, init),
        results,
        j,
        p,
        environment=walls,
        bands=bands(cfg, engine, p, envelope),
        sensitive_from=envelope.sensitivity(p) if envelope else None,
    )


def start_sentence(cfg: RunConfig, init: str) -> str:
    other = "python" if init == "java" else "java"
    return (
        f"Each side drew its initial weights from seed {cfg.seed} by its own code (stage init.independent); then "
        f"the {init} side's weights were copied exactly to the {other} side (init.transfer), and both trained "
        f"from them, on the same batches (dataset offset {cfg.offset}). Python mode {cfg.mode}."
    )
