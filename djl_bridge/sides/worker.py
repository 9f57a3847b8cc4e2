"""Our Java helpers in a child process: DJL 0.23 + MXNet, or DJL 0.35.1 on its own libtorch.

JPype starts one JVM per process and two DJL versions cannot share a classpath, so an engine
other than the shared-libtorch ``pytorch`` runs in a worker (``sides/worker_main.py``): a Python
process that starts its own JVM on that engine's classpath and never imports torch. Parent and
worker talk through one message format (``sides/wire.py``: JSON plus raw array bytes in a
private temp folder, in RAM-backed /dev/shm where there is one) and an event pipe.

The parent never waits unboundedly: the worker must report within ``idle_timeout`` seconds of its
last report (start-up, each epoch), or it is killed (SIGTERM to its process group, SIGKILL after
a grace period) and reaped. A crash, a hang or a missing native library becomes
:class:`WorkerFailed` (a :class:`BridgeSetupError`: exit 3) with the worker's own last words; a
Java exception inside the worker becomes the same :class:`JavaError` as in-process. SIGTERM and
Ctrl-C in the parent (``djl_bridge/signals.py`` raises them as exceptions) unwind through the
``finally`` that kills the worker; should the parent die outright, the kernel sends the worker
SIGKILL (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from djl_bridge.config import ConfigError, RunConfig
from djl_bridge.jvm.engines import spec
from djl_bridge.jvm.errors import JavaError
from djl_bridge.jvm.runtime import BridgeSetupError
from djl_bridge.runs import EpochCallback, RunResult
from djl_bridge.sides import wire
from djl_bridge.trace import StepTrace, Trace

#: Seconds the worker may stay silent (JVM start, one epoch) before it counts as hung.
IDLE_TIMEOUT_ENV = "DJL_PARITY_WORKER_TIMEOUT"
DEFAULT_IDLE_TIMEOUT = 600.0
_GRACE_S = 3.0


class WorkerFailed(BridgeSetupError):
    """The worker crashed, hung or could not start its engine; the message says which and why."""


@dataclass
class WorkerStats:
    """What one worker run cost: process start to JVM ready, and the message transfers."""

    engine: str
    spawn_to_started_s: float = 0.0
    jvm_s: float = 0.0
    request_bytes: int = 0
    request_write_s: float = 0.0
    request_read_s: float = 0.0
    response_bytes: int = 0
    response_write_s: float = 0.0
    response_read_s: float = 0.0
    total_s: float = 0.0
    native: str = ""
    djl: str = ""
    engine_version: str = ""
    events: list[dict] = field(default_factory=list)

    def transfer_gb_s(self) -> float:
        """Bytes moved per second of write plus read, both messages together."""
        seconds = self.request_write_s + self.request_read_s + self.response_write_s + self.response_read_s
        return (self.request_bytes + self.response_bytes) / seconds / 1e9 if seconds else 0.0


def idle_timeout() -> float:
    env = os.environ.get(IDLE_TIMEOUT_ENV)
    return float(env) if env else DEFAULT_IDLE_TIMEOUT


def _shm() -> str | None:
    """RAM-backed /dev/shm for the messages when there is one (no disk in the transfer), else the default."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _kill(proc: subprocess.Popen) -> None:
    """Stop the worker's process group, SIGTERM then SIGKILL, and reap it."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(_GRACE_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _tail(path: Path, lines: int = 12) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(ln for ln in text.splitlines()[-lines:])


def _exit_words(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
        return f"was killed by signal {-code}"
    return f"exited with status {code}"


def run_worker(
    engine: str, request: dict, on_event: Callable[[dict], None] | None = None, timeout: float | None = None
) -> tuple[Any, WorkerStats]:
    """Run one request in a fresh worker on ``engine``; its response body and the run's costs.

    ``timeout`` (default ``$DJL_PARITY_WORKER_TIMEOUT`` or 600) is the longest silence allowed.
    """
    timeout = idle_timeout() if timeout is None else timeout
    if spec(engine).in_process:
        raise ValueError(f"engine {engine} runs in this process, not in a worker")
    stats = WorkerStats(engine)
    t_start = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="djl-parity-worker-", dir=_shm()))  # mode 0700: private to this user
    read_fd, write_fd = os.pipe()
    proc: subprocess.Popen | None = None
    try:
        t0 = time.perf_counter()
        stats.request_bytes = wire.write(folder, "request", {**request, "engine": engine})
        stats.request_write_s = time.perf_counter() - t0
        env = {k: v for k, v in os.environ.items() if k != "PYTORCH_LIBRARY_PATH"}
        env["DJL_PARITY_JVM_ERROR_FILE"] = str(folder / "hs_err_pid%p.log")
        with open(folder / "worker.log", "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "djl_bridge.sides.worker_main", str(folder), str(write_fd)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=folder,
                env=env,
                pass_fds=(write_fd,),
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        os.close(write_fd)
        write_fd = -1
        last = _follow(proc, read_fd, timeout, stats, t_start, on_event, folder)
        if last.get("event") == "error":
            _raise_reported(engine, last, folder)
        t0 = time.perf_counter()
        body = wire.read(folder, "response")
        stats.response_read_s = time.perf_counter() - t0
        with contextlib.suppress(subprocess.TimeoutExpired):  # the answer is in; a slow JVM exit is stopped below
            proc.wait(_GRACE_S * 10)
        stats.total_s = time.perf_counter() - t_start
        return body, stats
    finally:
        if proc is not None:
            _kill(proc)
        if write_fd >= 0:
            os.close(write_fd)
        os.close(read_fd)
        shutil.rmtree(folder, ignore_errors=True)


def _follow(
    proc: subprocess.Popen,
    fd: int,
    timeout: float,
    stats: WorkerStats,
    t_start: float,
    on_event: Callable[[dict], None] | None,
    folder: Path,
) -> dict:
    """Read the worker's events until done/error, enforcing the silence limit; the last event."""
    buf = b""
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _kill(proc)
                raise WorkerFailed(
                    f"the {stats.engine} worker sent nothing for {timeout:.0f} s (hung?); it was stopped. "
                    f"Set {IDLE_TIMEOUT_ENV}=SECONDS to allow longer. Its last output:\n{_tail(folder / 'worker.log')}"
                )
            if not sel.select(remaining):
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:  # the worker closed the pipe: it ended without a last word
                code = proc.wait()
                raise WorkerFailed(
                    f"the {stats.engine} worker {_exit_words(code)} before answering. "
                    f"Its last output:\n{_tail(folder / 'worker.log')}"
                )
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                event = json.loads(line)
                stats.events.append(event)
                deadline = time.monotonic() + timeout
                kind = event.get("event")
                if kind == "started":
                    stats.spawn_to_started_s = time.perf_counter() - t_start
                    stats.jvm_s, stats.request_read_s = event["jvm_s"], event["request_s"]
                    stats.native, stats.djl = event["native"], event["djl"]
                    stats.engine_version = event["engine_version"]
                elif kind == "done":
                    stats.response_bytes, stats.response_write_s = event["response_bytes"], event["response_s"]
                if on_event is not None:
                    on_event(event)
                if kind in ("done", "error"):
                    return event


def _raise_reported(engine: str, event: dict, folder: Path) -> None:
    kind, message = event.get("kind"), event.get("message", "")
    if kind == "java":
        raise JavaError(event["java_class"], message, event.get("stack", ""))
    if kind == "input":
        raise ConfigError(message)
    if kind == "setup":
        raise WorkerFailed(f"the {engine} worker could not start its engine: {message}")
    raise WorkerFailed(f"the {engine} worker failed: {message}\n{event.get('stack', '')}".rstrip())


def _epochs(on_epoch: EpochCallback | None) -> Callable[[dict], None] | None:
    if on_epoch is None:
        return None
    return lambda e: on_epoch(e["epoch"], e["perplexity"], e["speed"]) if e.get("event") == "epoch" else None


def _config_body(cfg: RunConfig, data: Path) -> dict:
    return {"config": dataclasses.asdict(cfg), "data": str(data)}


def train(
    engine: str, cfg: RunConfig, data: Path, on_epoch: EpochCallback | None = None, timeout: float | None = None
) -> tuple[RunResult, WorkerStats]:
    """``train --impl djl`` on ``engine`` in a worker: the notebook's run and printed lines."""
    body, stats = run_worker(engine, {"op": "train", **_config_body(cfg, data)}, _epochs(on_epoch), timeout)
    return wire.rebuild(RunResult, body), stats


def engine_status(engine: str, timeout: float = 300) -> WorkerStats:
    """Start ``engine`` in a worker and stop it: what it loaded and how long that took."""
    return run_worker(engine, {"op": "engine"}, None, timeout)[1]


@dataclass
class WorkerTrace:
    """A worker's trace of one run, with what it found and what it cost."""

    trace: Trace
    as_published: dict | None
    torch_imported: bool
    stats: WorkerStats


def trace(
    engine: str,
    cfg: RunConfig,
    data: Path,
    init_params: dict[str, np.ndarray] | None,
    steps: int,
    probe: bool = False,
    on_epoch: EpochCallback | None = None,
    timeout: float | None = None,
    discard_stop_gradient: bool = False,
    on_event: Callable[[dict], None] | None = None,
) -> WorkerTrace:
    """The Java side's trace on ``engine`` (data stages, step 1, losses, perplexities, final state).

    ``on_event`` hears every worker event (``on_epoch`` only the epochs).
    """
    request = {
        "op": "trace",
        **_config_body(cfg, data),
        "steps": steps,
        "init_params": init_params,
        "probe": probe,
        "discard_stop_gradient": discard_stop_gradient,
    }
    epochs = _epochs(on_epoch)

    def heard(event: dict) -> None:
        if on_event is not None:
            on_event(event)
        if epochs is not None:
            epochs(event)

    body, stats = run_worker(engine, request, heard, timeout)
    return WorkerTrace(_trace(body["trace"]), body["as_published"], bool(body["torch_imported"]), stats)


def _trace(t: dict) -> Trace:
    t["batches_x"], t["batches_y"] = np.asarray(t["batches_x"]), np.asarray(t["batches_y"])
    return wire.rebuild(Trace, t, {"step1": StepTrace})


def notebook(
    engine: str, request: dict, on_event: Callable[[dict], None] | None = None, timeout: float | None = None
) -> tuple[dict, dict[int, Trace], WorkerStats]:
    """A d2l-java notebook executed in a worker on ``engine`` (op ``notebook``, see ``worker_main``).

    Returns the response body (``run``: ``sides.notebook.to_message``; ``torch_imported``), our
    helpers' replays by compared-call index, and the run's costs.
    """
    body, stats = run_worker(engine, {"op": "notebook", **request}, on_event, timeout)
    return body, {int(i): _trace(t) for i, t in body["replays"].items()}, stats
