"""`djl-parity bench`: training speed of every side on one config, in one process and one run.

Rows are a small table (:data:`ROWS`): the idiomatic PyTorch ``baseline``, the port in both
modes, DJL on each engine we ship, and the same on CUDA (``-cuda``) when there is a GPU. A row
that cannot run here is listed with the reason. Rows that run in this process are interleaved:
each round runs one epoch of every row (the order rotates), so load from other processes on a
shared machine falls on all rows alike. A row's figure is the median tokens/s of its epochs after
the warm-up. Speeds are only compared as ratios within the run; the run also measures the
machine's fp32 matmul peak, so each row reports the share of it that the model's arithmetic
reaches, plus JVM start and numpy ⇄ NDArray copy speeds.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from djl_bridge.config import RunConfig
from djl_bridge.jvm.runtime import BridgeSetupError

Say = Callable[[str], None]


class Runner(Protocol):
    """One row, set up: ``epoch()`` trains one epoch and returns (seconds, tokens)."""

    def epoch(self) -> tuple[float, int]: ...

    def close(self) -> None: ...


@dataclass
class Setting:
    """What every row shares: the run config (device filled in per row) and the data file."""

    cfg: RunConfig
    data: Path


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


class PortRunner:
    """The port (``training.train_epoch_ch8``) in one mode, from DJL's initialisation."""

    def __init__(self, s: Setting) -> None:
        from djl_bridge.dataset import TimeMachineDataset
        from djl_bridge.params import seeded_model
        from djl_bridge.text import load_corpus_time_machine

        cfg = s.cfg
        self.device, self.mode = torch.device(cfg.device), cfg.mode
        corpus, vocab = load_corpus_time_machine(s.data, cfg.max_tokens)
        self.dataset = TimeMachineDataset(corpus, cfg.batch_size, cfg.num_steps, offset=cfg.offset)
        self.net = seeded_model(cfg.model, len(vocab), cfg.hidden, cfg.layers, cfg.seed)
        self.net.to(self.device)
        self.lr = cfg.lr

    def epoch(self) -> tuple[float, int]:
        from djl_bridge.training import train_epoch_ch8

        t0 = time.perf_counter()
        train_epoch_ch8(self.net, self.dataset.batches(self.device), self.lr, self.device, False, self.mode)
        _sync(self.device.type)
        return time.perf_counter() - t0, len(self.dataset) * self.dataset.num_steps

    def close(self) -> None:
        pass


class BaselineRunner:
    """``baseline.py``: the model and loop as a PyTorch user writes them."""

    def __init__(self, s: Setting) -> None:
        from djl_bridge.baseline import CharLSTM
        from djl_bridge.dataset import TimeMachineDataset
        from djl_bridge.text import load_corpus_time_machine

        cfg = s.cfg
        if cfg.model != "bilstm":
            raise ValueError("the baseline is the notebook's bi-LSTM; run the bench with --model bilstm")
        self.device = torch.device(cfg.device)
        corpus, vocab = load_corpus_time_machine(s.data, cfg.max_tokens)
        self.dataset = TimeMachineDataset(corpus, cfg.batch_size, cfg.num_steps, offset=cfg.offset)
        torch.manual_seed(cfg.seed)
        self.model = CharLSTM(len(vocab), cfg.hidden, cfg.layers).to(self.device)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=cfg.lr)

    def epoch(self) -> tuple[float, int]:
        from djl_bridge.baseline import train_epoch

        t0 = time.perf_counter()
        _, tokens = train_epoch(self.model, self.dataset.batches(self.device), self.optimizer)
        _sync(self.device.type)
        return time.perf_counter() - t0, tokens

    def close(self) -> None:
        pass


class DjlRunner:
    """Our Java helpers on DJL's PyTorch engine in this process: TrainSession, one batch per call."""

    def __init__(self, s: Setting) -> None:
        from djl_bridge.jvm import java_call, jclass
        from djl_bridge.jvm.djl_side import BRIDGE, prepare

        cfg = replace(s.cfg, layout_fix=True)
        self.setup = prepare(cfg, s.data)
        with java_call():
            jclass(BRIDGE + "Params").initialize(
                self.setup.net, self.setup.manager, jclass("ai.djl.ndarray.types.Shape")(cfg.batch_size, cfg.num_steps)
            )
            self.session = jclass(BRIDGE + "TrainSession")(
                self.setup.net, self.setup.dataset, cfg.lr, self.setup.device, False, self.setup.manager
            )
        self.tokens = int(self.setup.dataset.size()) * cfg.num_steps

    def epoch(self) -> tuple[float, int]:
        from djl_bridge.jvm import java_call

        t0 = time.perf_counter()
        with java_call():
            self.session.beginEpoch()
            while self.session.step():
                pass
            self.session.endEpoch()
        return time.perf_counter() - t0, self.tokens

    def close(self) -> None:
        self.session.close()
        self.setup.manager.close()


class ConcurrentSides:
    """The two sides of a ``compare`` (port in parity mode, DJL) for one epoch each, one after the other
    with all threads, or at once with half each (:class:`djl_bridge.concurrency.SidePair`)."""

    def __init__(self, s: Setting, concurrent: bool) -> None:
        self.python = PortRunner(Setting(replace(s.cfg, mode="parity"), s.data))
        self.java = DjlRunner(s)
        self.concurrent = concurrent
        self.side_seconds: list[tuple[float, float]] = []

    def epoch(self) -> tuple[float, int]:
        from djl_bridge.concurrency import SidePair

        out: dict[str, tuple[float, int]] = {}

        def java(ready: Callable[[], None]) -> None:
            ready()
            out["java"] = self.java.epoch()

        def python() -> None:
            out["python"] = self.python.epoch()

        timing = SidePair(self.concurrent).run(java, python)
        self.side_seconds.append((out["python"][0], out["java"][0]))
        return timing.whole_s, out["python"][1] + out["java"][1]

    def close(self) -> None:
        self.java.close()


class WorkerRunner:
    """DJL on another engine in a child process (``djl_bridge.sides.worker``): the whole run at set-up,
    then its epochs one by one, timed by the worker's own StopWatch (not interleaved)."""

    def __init__(self, engine: str, s: Setting) -> None:
        from djl_bridge.dataset import TimeMachineDataset
        from djl_bridge.sides import worker
        from djl_bridge.text import load_corpus_time_machine

        cfg = s.cfg
        corpus, _ = load_corpus_time_machine(s.data, cfg.max_tokens)
        dataset = TimeMachineDataset(corpus, cfg.batch_size, cfg.num_steps, offset=cfg.offset)
        self.tokens = len(dataset) * cfg.num_steps
        result, stats = worker.train(engine, replace(cfg, layout_fix=False), s.data)
        self.start_s = stats.spawn_to_started_s
        self.speeds = list(result.speeds)

    def epoch(self) -> tuple[float, int]:
        return self.tokens / self.speeds.pop(0), self.tokens

    def close(self) -> None:
        pass


def _cuda_missing() -> str | None:
    return None if torch.cuda.is_available() else "CUDA is not available on this machine"


def _java_missing() -> str | None:
    from djl_bridge.jvm.runtime import BridgeSetupError, classpath, libtorch_policy

    try:
        libtorch_policy()
        classpath()
    except BridgeSetupError as exc:
        return str(exc)
    return None


def _worker_missing(engine: str) -> Callable[[], str | None]:
    def missing() -> str | None:
        if (
            importlib.util.find_spec("djl_bridge.sides") is None
            or importlib.util.find_spec("djl_bridge.sides.worker") is None
        ):
            return f"the worker side that runs the {engine} engine (djl_bridge.sides.worker) is not in this build"
        return None

    return missing


@dataclass(frozen=True)
class Row:
    """One line of the benchmark: how to set it up, and why it cannot run here (None: it can)."""

    name: str
    device: str
    make: Callable[[Setting], Runner]
    missing: Callable[[], str | None] = lambda: None
    overrides: dict[str, Any] = field(default_factory=dict)
    interleave: bool = True  # False: runs all its epochs on its own (a child process)
    needs_jvm: bool = False  # runs Java in this process


def _rows() -> list[Row]:
    rows = []
    for device, suffix, dev_missing in (("cpu", "", lambda: None), ("cuda", "-cuda", _cuda_missing)):
        rows += [
            Row("baseline" + suffix, device, BaselineRunner, dev_missing),
            Row("python-parity" + suffix, device, PortRunner, dev_missing, {"mode": "parity"}),
            Row("python-fast" + suffix, device, PortRunner, dev_missing, {"mode": "fast"}),
        ]
        if device == "cpu":  # DJL's JNI here is its CPU build (see README, decisions)
            rows += [
                Row("djl-pytorch", "cpu", DjlRunner, _java_missing, needs_jvm=True),
                Row("djl-mxnet", "cpu", lambda s: WorkerRunner("mxnet", s), _worker_missing("mxnet"), interleave=False),
            ]
    return rows


ROWS: list[Row] = _rows()
SIDES_ROWS: list[Row] = [
    Row("sides-sequential", "cpu", lambda s: ConcurrentSides(s, concurrent=False), _java_missing, needs_jvm=True),
    Row("sides-concurrent", "cpu", lambda s: ConcurrentSides(s, concurrent=True), _java_missing, needs_jvm=True),
]


def flops_per_token(vocab_size: int, hidden: int, layers: int, bidirectional: bool = True) -> float:
    """Forward plus backward FLOPs per token of the (bi)LSTM language model as written (one-hot input
    matmul included): 2 FLOPs per multiply-add, backward twice the forward."""
    dirs = 2 if bidirectional else 1
    forward = 0.0
    for layer in range(layers):
        inputs = vocab_size if layer == 0 else hidden * dirs
        forward += dirs * 2 * 4 * hidden * (inputs + hidden)
    forward += 2 * hidden * dirs * vocab_size
    return 3 * forward


def matmul_peak(device: str, n: int = 2048, repeats: int = 5) -> float:
    """Best fp32 matmul rate (FLOP/s) of ``n``³ products on ``device``, with this process's threads."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    best = float("inf")
    for _ in range(repeats + 1):
        _sync(device)
        t0 = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def transfer_speeds(megabytes: int = 10, repeats: int = 5) -> dict[str, float]:
    """numpy ⇄ NDArray copy speed (GB/s, best of ``repeats``) through the bridge's converters."""
    from djl_bridge.jvm import jclass, to_ndarray, to_numpy

    manager = jclass("ai.djl.ndarray.NDManager").newBaseManager()
    a = np.random.default_rng(0).standard_normal(megabytes * 2**20 // 4).astype(np.float32)
    into, out = [], []
    try:
        for _ in range(repeats):
            t0 = time.perf_counter()
            nd = to_ndarray(manager, a)
            into.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            back = to_numpy(nd)
            out.append(time.perf_counter() - t0)
            if back.tobytes() != a.tobytes():
                raise RuntimeError("numpy -> NDArray -> numpy changed the data")
            nd.close()
    finally:
        manager.close()
    return {
        "numpy_to_ndarray_GBps": a.nbytes / min(into) / 1e9,
        "ndarray_to_numpy_GBps": a.nbytes / min(out) / 1e9,
        "megabytes": megabytes,
    }


def jpype_releases_gil(seconds: float = 0.2) -> bool:
    """Whether a Python thread keeps running while this thread is inside a Java call (Thread.sleep)."""
    from djl_bridge.jvm import jclass

    count, stop = [0], threading.Event()

    def spin() -> None:
        while not stop.is_set():
            count[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    time.sleep(0.02)
    before = count[0]
    jclass("java.lang.Thread").sleep(int(seconds * 1000))
    during = count[0] - before
    stop.set()
    t.join()
    return during > 1000


def _remeasure_peak(result: dict[str, Any], devices: list[str]) -> None:
    """Measure the matmul peak again and keep the best (other processes make single measurements low)."""
    for d in devices:
        result["matmul_peak_GFLOPs"][d] = max(result["matmul_peak_GFLOPs"][d], matmul_peak(d) / 1e9)


def select_rows(names: list[str] | None, sides: bool) -> list[Row]:
    """The rows to run: all of :data:`ROWS` (plus the sides rows), or those named (unknown: ValueError)."""
    table = ROWS + SIDES_ROWS
    if not names:
        return ROWS + (SIDES_ROWS if sides else [])
    known = {r.name: r for r in table}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown bench row(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return [known[n] for n in names]


def _summary(seconds: list[float], tokens: list[int], warmup: int) -> dict[str, Any]:
    speeds = [t / s for s, t in zip(seconds, tokens)]
    steady = speeds[warmup:] or speeds
    return {
        "tokens_per_s": statistics.median(steady),
        "epoch_tokens_per_s": speeds,
        "spread": (max(steady) - min(steady)) / statistics.median(steady) if len(steady) > 1 else 0.0,
    }


def run_bench(
    base: RunConfig,
    data: Path,
    rows: list[Row],
    epochs: int = 4,
    warmup: int = 1,
    interleave: bool = True,
    say: Say = lambda _m: None,
    profile: Path | None = None,
) -> dict[str, Any]:
    """Run ``rows`` for ``warmup + epochs`` epochs each; the result as a JSON-ready dict. With ``profile``,
    also profile one epoch of fast mode on the CPU (after one warm-up epoch) and draw it there."""
    base = base.resolved()
    if epochs <= 0 or warmup < 0:
        raise ValueError(f"--epochs must be positive and --warmup not negative, got {epochs} and {warmup}")
    result: dict[str, Any] = {
        "schema": "djl-parity/bench/1",
        "config": base.as_dict(),
        "epochs": epochs,
        "warmup": warmup,
        "interleaved": interleave,
        "threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(libgomp default)"),
        "torch": torch.__version__,
        "load_average_1min": {"before": os.getloadavg()[0]},
        "rows": [],
        "skipped": [],
    }
    runnable = []
    for row in rows:
        reason = row.missing()
        if reason:
            say(f"skip {row.name}: {reason}")
            result["skipped"].append({"name": row.name, "reason": reason})
        else:
            runnable.append(row)
    if any(r.needs_jvm for r in runnable):
        from djl_bridge.jvm import start

        t0 = time.perf_counter()
        info = start()
        result["jvm"] = {
            "start_s": info.started_in_s,
            "start_with_engine_s": time.perf_counter() - t0,
            "java": info.java_version,
            "djl": info.djl_version,
            "engine": f"{info.engine} {info.engine_version}",
        }
        with_engine = result["jvm"]["start_with_engine_s"]
        say(f"JVM started in {info.started_in_s:.2f} s ({with_engine:.2f} s with DJL's engine)")
        result["transfer"] = transfer_speeds()
        result["jpype_releases_gil"] = jpype_releases_gil()
    devices = sorted({r.device for r in runnable})
    say("measuring the fp32 matmul peak")
    result["matmul_peak_GFLOPs"] = {d: matmul_peak(d) / 1e9 for d in devices}
    from djl_bridge.text import load_corpus_time_machine

    vocab_size = len(load_corpus_time_machine(data, base.max_tokens)[1])
    per_token = flops_per_token(vocab_size, base.hidden, base.layers, base.model == "bilstm")
    result["model_flops_per_token"] = per_token

    runners: dict[str, Runner] = {}
    total = warmup + epochs
    seconds: dict[str, list[float]] = {}
    tokens: dict[str, list[int]] = {}
    try:
        for row in list(runnable):
            say(f"set up {row.name}" + ("" if row.interleave else f" (runs its {total} epochs now)"))
            try:
                runner = row.make(Setting(replace(base, device=row.device, epochs=total, **row.overrides), data))
            except BridgeSetupError as exc:  # a part of the environment this row needs is missing
                say(f"skip {row.name}: {exc}")
                result["skipped"].append({"name": row.name, "reason": str(exc)})
                runnable.remove(row)
                continue
            runners[row.name] = runner
            seconds[row.name], tokens[row.name] = [], []
            if isinstance(runner, WorkerRunner):
                result.setdefault("worker_start_s", {})[row.name] = runner.start_s
        together = [r for r in runnable if r.interleave and interleave]
        alone = [r for r in runnable if r not in together]
        for round_ in range(total):
            shift = round_ % max(len(together), 1)
            for row in together[shift:] + together[:shift]:
                s, t = runners[row.name].epoch()
                seconds[row.name].append(s)
                tokens[row.name].append(t)
                say(f"round {round_ + 1}/{total}  {row.name:<18} {t / s:>10,.0f} tokens/s")
            _remeasure_peak(result, devices)
        for row in alone:
            for e in range(total):
                s, t = runners[row.name].epoch()
                seconds[row.name].append(s)
                tokens[row.name].append(t)
                say(f"epoch {e + 1}/{total}  {row.name:<18} {t / s:>10,.0f} tokens/s")
    finally:
        for runner in runners.values():
            runner.close()

    if profile is not None:
        from djl_bridge.bench_profile import profile_epoch

        say("profiling one epoch of python-fast")
        cfg = replace(base, device="cpu", mode="fast")
        runner = PortRunner(Setting(cfg, data))
        runner.epoch()
        result["profile"] = profile_epoch(runner, "cpu")
        result["matmul_peak_GFLOPs"].setdefault("cpu", 0.0)
        devices = sorted({*devices, "cpu"})
    _remeasure_peak(result, devices)
    result["load_average_1min"]["after"] = os.getloadavg()[0]
    if profile is not None:
        from djl_bridge.bench_profile import plot_profile

        plot_profile(
            result["profile"],
            result["matmul_peak_GFLOPs"]["cpu"],
            f"python-fast, one epoch: bi-LSTM {base.layers}x{base.hidden}, batch {base.batch_size}, "
            f"{base.num_steps} steps,\n{base.max_tokens} tokens, {torch.get_num_threads()} threads, "
            f"OMP_WAIT_POLICY {result['omp_wait_policy']}, load average {os.getloadavg()[0]:.1f}",
            profile,
        )
    for row in runnable:
        entry = {"name": row.name, "device": row.device, **_summary(seconds[row.name], tokens[row.name], warmup)}
        peak = result["matmul_peak_GFLOPs"][row.device] * 1e9
        entry["peak_share"] = entry["tokens_per_s"] * per_token / peak
        runner = runners[row.name]
        if isinstance(runner, ConcurrentSides):
            py, jv = (
                statistics.median(x[i] for x in runner.side_seconds[warmup:] or runner.side_seconds) for i in (0, 1)
            )
            entry["sides_seconds"] = {
                "python": py,
                "java": jv,
                "whole": statistics.median(seconds[row.name][warmup:] or seconds[row.name]),
            }
        result["rows"].append(entry)
    result["ratios"] = ratios(result["rows"])
    return result


def ratios(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Each row against ``baseline`` on its device and against ``djl-pytorch``; fast against parity,
    CUDA against CPU, concurrent against sequential sides."""
    speed = {r["name"]: r["tokens_per_s"] for r in rows}
    out = {}
    for name, value in speed.items():
        if name.startswith("sides-"):
            continue
        for ref in ("baseline-cuda" if name.endswith("-cuda") else "baseline", "djl-pytorch"):
            if ref in speed and ref != name:
                out[f"{name}/{ref}"] = value / speed[ref]
    for a, b in (
        ("python-fast", "python-parity"),
        ("python-fast-cuda", "python-parity-cuda"),
        ("python-fast-cuda", "python-fast"),
        ("sides-concurrent", "sides-sequential"),
    ):
        if a in speed and b in speed:
            out[f"{a}/{b}"] = speed[a] / speed[b]
    return out


def table(result: dict[str, Any]) -> list[str]:
    """The human-readable report of :func:`run_bench`'s result."""
    lines = [f"{'row':<20} {'tokens/s':>10} {'x baseline':>10} {'x djl':>7} {'peak':>6} {'spread':>7}"]
    speed = {r["name"]: r["tokens_per_s"] for r in result["rows"]}
    for r in result["rows"]:
        base = speed.get("baseline-cuda" if r["name"].endswith("-cuda") else "baseline")
        djl = speed.get("djl-pytorch")
        lines.append(
            f"{r['name']:<20} {r['tokens_per_s']:>10,.0f} "
            f"{(r['tokens_per_s'] / base) if base else float('nan'):>10.2f} "
            f"{(r['tokens_per_s'] / djl) if djl else float('nan'):>7.2f} "
            f"{r['peak_share']:>6.0%} {r['spread']:>7.0%}"
        )
        if "sides_seconds" in r:
            sides = r["sides_seconds"]
            lines.append(
                f"{'':<20} per epoch: python {sides['python']:.2f} s, java {sides['java']:.2f} s, "
                f"whole {sides['whole']:.2f} s"
            )
    for s in result["skipped"]:
        lines.append(f"{s['name']:<20} skipped: {s['reason']}")
    peaks = ", ".join(f"{d} {g:,.0f} GFLOP/s" for d, g in result["matmul_peak_GFLOPs"].items())
    load = result["load_average_1min"]
    lines.append(
        f"load average (1 min) {load['before']:.1f} before, {load['after']:.1f} after (2 cores: above 2, "
        "other processes shared the CPU)"
    )
    lines.append(
        f"matmul peak (fp32): {peaks}; model {result['model_flops_per_token'] / 1e6:.1f} MFLOP/token "
        f"(forward + backward); {result['threads']} threads, "
        f"OMP_WAIT_POLICY {result['omp_wait_policy']}"
    )
    if "jvm" in result:
        t = result["transfer"]
        lines.append(
            f"JVM start {result['jvm']['start_s']:.2f} s ({result['jvm']['start_with_engine_s']:.2f} s "
            f"with DJL's engine); numpy→NDArray {t['numpy_to_ndarray_GBps']:.2f} GB/s, "
            f"NDArray→numpy {t['ndarray_to_numpy_GBps']:.2f} GB/s ({t['megabytes']} MB float32); "
            f"JPype releases the GIL in Java calls: {'yes' if result['jpype_releases_gil'] else 'no'}"
        )
    for name, value in result.get("worker_start_s", {}).items():
        lines.append(f"{name}: worker process start to JVM ready {value:.2f} s")
    for name, value in result["ratios"].items():
        lines.append(f"ratio {name}: {value:.2f}")
    return lines


def plot(result: dict[str, Any], path: Path) -> None:
    """A bar chart of tokens/s per row, each bar labelled with its share of the matmul peak."""
    from djl_bridge.plots import plt, save_figure

    rows = result["rows"]
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(rows) + 1.2))
    names = [r["name"] for r in rows][::-1]
    speeds = [r["tokens_per_s"] for r in rows][::-1]
    bars = ax.barh(names, speeds, color=["#4c72b0" if n.startswith("python") else "#888888" for n in names])
    for bar, r in zip(bars, rows[::-1]):
        label = f" {r['tokens_per_s']:,.0f} ({r['peak_share']:.0%})"
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, label, va="center", fontsize=8)
    ax.set_xlabel("tokens/s (median after warm-up; share of the fp32 matmul peak)")
    ax.set_xlim(0, max(speeds) * 1.3)
    fig.tight_layout()
    save_figure(fig, path)
