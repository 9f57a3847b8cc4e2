"""Our Java helpers in a child process: DJL 0.23 + MXNet, or DJL 0.35.1 on its own libtorch.

JPype starts one JVM per process and two DJL versions cannot share a classpath, so an engine
other than the shared-libtorch ``pytorch`` runs in a worker (``worker_main.py``): a Python
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

from djl_bridge.config import ConfigError
from djl_bridge.jvm.engines import spec
from djl_bridge.jvm.errors import JavaError
from djl_bridge.jvm.runtime import BridgeSetupError
from djl_bridge.sides import wire

EpochCallback = Callable[[int, float, float], None]

#: Seconds the worker may stay silent (JVM start, one epoch) before it counts as hung.
IDLE_TIMEOUT_ENV = "DJL_PARITY_WORKER_TIMEOUT"
DEFAULT_IDLE_TIMEOUT = 600.0
_GRACE_S = 3.0


class WorkerFailed(BridgeSetupError):
    """The worker crashed, hung or could not start its engine; the message says which and why."""


class WorkerDied(WorkerFailed):
    """The worker ended before answering (``how``: "exited with status 3", "was killed by SIGSEGV")."""

    def __init__(self, message: str, how: str) -> None:
        super().__init__(message)
        self.how = how


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


def _kill(proc: subprocess.Popen, grace: float = _GRACE_S) -> None:
    """Stop the worker's process group, SIGTERM then (after ``grace`` seconds) SIGKILL, and reap it."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM if grace > 0 else signal.SIGKILL)
    try:
        proc.wait(grace)
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


def _spawn(folder: Path, write_fd: int, threads: int | None) -> subprocess.Popen:
    """The worker process, in a session of its own, killed with its parent, its output in ``worker.log``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTORCH_LIBRARY_PATH"}
    env["DJL_PARITY_JVM_ERROR_FILE"] = str(folder / "hs_err_pid%p.log")
    if threads is not None:
        env["DJL_PARITY_THREADS"] = str(threads)
    with open(folder / "worker.log", "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "djl_bridge.worker_main", str(folder), str(write_fd)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=folder,
            env=env,
            pass_fds=(write_fd,),
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )


def run_worker(
    engine: str,
    request: dict,
    on_event: Callable[[dict], None] | None = None,
    timeout: float | None = None,
    threads: int | None = None,
) -> tuple[Any, WorkerStats]:
    """Run one request in a fresh worker on ``engine``; its response body and the run's costs.

    ``timeout`` (default ``$DJL_PARITY_WORKER_TIMEOUT`` or 600) is the longest silence allowed;
    ``threads`` the worker's compute threads (default: ``$DJL_PARITY_THREADS`` or every CPU).
    """
    timeout = idle_timeout() if timeout is None else timeout
    spec(engine)  # a known engine
    stats = WorkerStats(engine)
    t_start = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="djl-parity-worker-", dir=_shm()))  # mode 0700: private to this user
    read_fd, write_fd = os.pipe()
    proc: subprocess.Popen | None = None
    try:
        t0 = time.perf_counter()
        stats.request_bytes = wire.write(folder, "request", {**request, "engine": engine})
        stats.request_write_s = time.perf_counter() - t0
        proc = _spawn(folder, write_fd, threads)
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
    except BaseException:  # an interrupt or a failure: nothing of the worker's is wanted any more
        if proc is not None:
            _kill(proc, grace=0)
        raise
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
                how = _exit_words(proc.wait())
                raise WorkerDied(
                    f"the {stats.engine} worker {how} before answering. "
                    f"Its last output:\n{_tail(folder / 'worker.log')}",
                    how,
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


def epoch_events(on_epoch: EpochCallback | None) -> Callable[[dict], None] | None:
    """A worker-event listener that hands each "epoch" event to ``on_epoch(epoch, perplexity, speed)``."""
    if on_epoch is None:
        return None
    return lambda e: on_epoch(e["epoch"], e["perplexity"], e["speed"]) if e.get("event") == "epoch" else None


def engine_status(engine: str, timeout: float = 300) -> WorkerStats:
    """Start ``engine`` in a worker and stop it: what it loaded and how long that took."""
    return run_worker(engine, {"op": "engine"}, None, timeout)[1]
