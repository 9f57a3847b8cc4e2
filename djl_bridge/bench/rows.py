"""The benchmark's rows: the idiomatic baseline, the port in both modes, the Java side on each engine,
and compare's two sides one after the other or at once.

Rows in this process (the baseline, the port) train one epoch per call, so the benchmark can
interleave them. A Java side runs in a worker process, as every command runs it: its row makes
the whole run at set-up (``sides.java.run``) and reports the epochs its own StopWatch timed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import torch

from djl_bridge.bench.measure import sync
from djl_bridge.config import RunConfig


class Runner(Protocol):
    """One row, set up: ``epoch()`` trains one epoch and returns (seconds, tokens)."""

    def epoch(self) -> tuple[float, int]: ...


@dataclass
class Setting:
    """What every row shares: the run config (device filled in per row) and the data file."""

    cfg: RunConfig
    data: Path


def _dataset(s: Setting):
    from djl_bridge.dataset import TimeMachineDataset
    from djl_bridge.text import load_corpus_time_machine

    corpus, vocab = load_corpus_time_machine(s.data, s.cfg.max_tokens)
    return TimeMachineDataset(corpus, s.cfg.batch_size, s.cfg.num_steps, offset=s.cfg.offset), vocab


class PortRunner:
    """The port (``training.train_epoch_ch8``) in one mode, from DJL's initialisation."""

    def __init__(self, s: Setting) -> None:
        from djl_bridge.params import seeded_model

        cfg = s.cfg
        self.device, self.mode, self.lr = torch.device(cfg.device), cfg.mode, cfg.lr
        self.dataset, vocab = _dataset(s)
        self.net = seeded_model(cfg.model, len(vocab), cfg.hidden, cfg.layers, cfg.seed)
        self.net.to(self.device)

    def epoch(self) -> tuple[float, int]:
        from djl_bridge.training import train_epoch_ch8

        t0 = time.perf_counter()
        train_epoch_ch8(self.net, self.dataset.batches(self.device), self.lr, self.device, False, self.mode)
        sync(self.device.type)
        return time.perf_counter() - t0, len(self.dataset) * self.dataset.num_steps


class BaselineRunner:
    """``baseline.py``: the model and loop as a PyTorch user writes them."""

    def __init__(self, s: Setting) -> None:
        from djl_bridge.baseline import CharLSTM

        cfg = s.cfg
        if cfg.model != "bilstm":
            raise ValueError("the baseline is the notebook's bi-LSTM; run the bench with --model bilstm")
        self.device = torch.device(cfg.device)
        self.dataset, vocab = _dataset(s)
        torch.manual_seed(cfg.seed)
        self.model = CharLSTM(len(vocab), cfg.hidden, cfg.layers).to(self.device)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=cfg.lr)

    def epoch(self) -> tuple[float, int]:
        from djl_bridge.baseline import train_epoch

        t0 = time.perf_counter()
        _, tokens = train_epoch(self.model, self.dataset.batches(self.device), self.optimizer)
        sync(self.device.type)
        return time.perf_counter() - t0, tokens


class JavaRunner:
    """Our helpers on a DJL engine in a worker process: the whole run at set-up, then its epochs one by one."""

    def __init__(self, engine: str, s: Setting) -> None:
        from djl_bridge.sides import java
        from djl_bridge.trace import Request

        cfg = replace(s.cfg, layout_fix=engine != "mxnet")
        trace = java.run(Request(cfg, str(s.data), full_steps=0), engine)
        self.tokens = len(_dataset(s)[0]) * cfg.num_steps
        self.speeds = list(trace.speeds)
        self.costs = trace.costs

    def epoch(self) -> tuple[float, int]:
        return self.tokens / self.speeds.pop(0), self.tokens


class SidesRunner:
    """``compare``'s two sides (the port, our helpers on DJL's PyTorch engine) for the whole run, one after the
    other with all threads or at once with half each (``flows/compare.py``), then its epochs one by one."""

    def __init__(self, s: Setting, concurrent: bool) -> None:
        from djl_bridge.flows.compare import comparable, sides

        cfg = comparable(replace(s.cfg, layout_fix=True, mode="parity"), "pytorch", "java")
        t0 = time.perf_counter()
        ran = sides(concurrent)(cfg, s.data, "pytorch", "java", 0, lambda _m: None, lambda *_a: None)
        j, p = ran.java, ran.port
        whole = time.perf_counter() - t0
        self.tokens = len(_dataset(s)[0]) * cfg.num_steps
        n = len(p.speeds)
        self.seconds = {"python": self.tokens * n / sum(p.speeds), "java": self.tokens * n / sum(j.speeds)}
        self.seconds |= {"whole": whole / n}
        self.epochs = [whole / n] * n

    def epoch(self) -> tuple[float, int]:
        return self.epochs.pop(0), 2 * self.tokens


def _cuda_missing() -> str | None:
    return None if torch.cuda.is_available() else "CUDA is not available on this machine"


def _java_missing(engine: str) -> Callable[[], str | None]:
    def missing() -> str | None:
        from djl_bridge.jvm.runtime import BridgeSetupError, preflight

        try:
            preflight(engine)
        except BridgeSetupError as exc:
            return str(exc)
        return None

    return missing


@dataclass(frozen=True)
class Row:
    """One line of the benchmark: how to set it up, and why it cannot run here (None: it can)."""

    name: str
    device: str
    make: Callable[[Setting], Any]
    missing: Callable[[], str | None] = lambda: None
    overrides: dict[str, Any] = field(default_factory=dict)
    interleave: bool = True  # False: runs all its epochs at set-up (a worker process)


def _rows() -> list[Row]:
    rows = []
    for device, suffix, dev_missing in (("cpu", "", lambda: None), ("cuda", "-cuda", _cuda_missing)):
        rows += [
            Row("baseline" + suffix, device, BaselineRunner, dev_missing),
            Row("python-parity" + suffix, device, PortRunner, dev_missing, {"mode": "parity"}),
            Row("python-fast" + suffix, device, PortRunner, dev_missing, {"mode": "fast"}),
        ]
        if device == "cpu":  # DJL's JNI here is its CPU build (see README, decisions)
            for engine in ("pytorch", "mxnet"):
                make = lambda s, e=engine: JavaRunner(e, s)  # noqa: E731
                rows.append(Row(f"djl-{engine}", "cpu", make, _java_missing(engine), interleave=False))
    return rows


ROWS: list[Row] = _rows()
SIDES_ROWS: list[Row] = [
    Row(f"sides-{how}", "cpu", lambda s, c=c: SidesRunner(s, c), _java_missing("pytorch"), interleave=False)
    for how, c in (("sequential", False), ("concurrent", True))
]


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
