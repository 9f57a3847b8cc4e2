"""One attempt at one sweep job: its command line, its own process tree, its timeout, its outcome.

A job is exactly the command a user could run alone (``djl-parity compare ... --out DIR``), in a
new session, so that its whole process tree is one process group the sweep can stop: SIGTERM
(the command then removes its staged output and exits 143), SIGKILL after a grace period. This
module runs inside a Ray task (``ray_runner``) and never imports Ray.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from djl_bridge.parity.compare import FAILED, NOT_COMPARED
from djl_bridge.sweep import outcomes

GRACE_S = 10.0  # between SIGTERM and SIGKILL
#: variables of the sweep's own Ray instance that a job process has no use for
_RAY_ONLY = ("RAY_AUTH_TOKEN", "RAY_AUTH_MODE")


@dataclass(frozen=True)
class Request:
    """What one attempt needs, as plain data (it travels to a Ray worker): absolute paths throughout."""

    name: str
    argv: tuple[str, ...]  # the djl-parity arguments: command, options, --out, --data
    cpus: int
    timeout_s: float
    out_dir: str
    log_prefix: str
    cwd: str
    number: int = 1  # 2 for the retry

    @property
    def log(self) -> str:
        return f"{self.log_prefix}.{self.number}.log"


@dataclass(frozen=True)
class Attempt:
    """How one attempt ended."""

    number: int
    outcome: str
    exit_code: int  # the process's status; negative: killed by that signal
    detail: str
    started: str
    wall_s: float
    host: str
    pid: int
    log: str
    summary: dict  # from the job's report.json or metrics.json: headline, first divergence


def job_arguments(command: str, args: tuple[str, ...], out_dir: Path, data: Path) -> tuple[str, ...]:
    """The job's djl-parity arguments: the spec entry's, with its own output folder and the sweep's data file."""
    return (command, *args, "--out", str(out_dir), "--data", str(data))


def environment(cpus: int) -> dict[str, str]:
    """The job's environment: this one, with ``cpus`` compute threads for torch, OpenMP, MKL and the MXNet worker."""
    env = {k: v for k, v in os.environ.items() if k not in _RAY_ONLY}
    threads = str(cpus)
    env |= {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "DJL_PARITY_THREADS": threads}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def clear_output(out_dir: Path, keep_folder: bool = False) -> None:
    """Remove what a killed attempt may leave beside ``out_dir`` (its staging folders), and the folder itself
    unless ``keep_folder`` (the command moves it in whole, so it is a finished run's)."""
    if out_dir.parent.is_dir():
        for path in out_dir.parent.iterdir():
            if path.name.startswith(f".{out_dir.name}.") or path.name == out_dir.name and not keep_folder:
                shutil.rmtree(path, ignore_errors=True)


def run_attempt(req: Request, on_start: Callable[[int, str], None]) -> Attempt:
    """Run the job once, stop its process tree at its timeout (or on KeyboardInterrupt), and read how it ended."""
    out_dir = Path(req.out_dir)
    clear_output(out_dir)
    started, t0, host = datetime.now(UTC).isoformat(timespec="seconds"), time.perf_counter(), socket.gethostname()
    with open(req.log, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "djl_bridge.cli", *req.argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=req.cwd,
            env=environment(req.cpus),
            start_new_session=True,
        )
        on_start(proc.pid, host)
        try:
            proc.wait(req.timeout_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:  # also on KeyboardInterrupt (ray.cancel): nothing of the job outlives its attempt
            stop_group(proc)
            clear_output(out_dir, keep_folder=True)
    if timed_out:
        outcome, detail = outcomes.TIMED_OUT, f"still running after {req.timeout_s:g} s: its process group was stopped"
    else:
        outcome, detail = outcomes.from_exit(proc.returncode)
    return Attempt(
        req.number,
        outcome,
        proc.returncode,
        detail,
        started,
        round(time.perf_counter() - t0, 3),
        host,
        proc.pid,
        req.log,
        read_summary(out_dir),
    )


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def stop_group(proc: subprocess.Popen, grace: float = GRACE_S) -> None:
    """Stop the job's process group (SIGTERM, SIGKILL after ``grace`` s), reap it, then kill what it left."""
    if proc.poll() is None:
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
    _signal_group(proc.pid, signal.SIGKILL)  # any process of the tree that outlived its leader


def read_summary(out_dir: Path) -> dict:
    """A compare or notebook report's headline and first divergence, or a train run's last perplexity."""
    with contextlib.suppress(OSError, ValueError):
        report = json.loads((out_dir / "report.json").read_text())
        return {
            "headline": report.get("verdict", ""),
            "first_divergence": first_divergence(report.get("stages", [])),
            "report": "report.html",
        }
    with contextlib.suppress(OSError, ValueError, IndexError, KeyError):
        metrics = json.loads((out_dir / "metrics.json").read_text())
        return {"headline": f"final perplexity {metrics['perplexities'][-1]:.4g}", "report": "metrics.json"}
    return {}


def first_divergence(stages: list[dict]) -> str:
    """The first stage that failed, else the first not compared: its name and first element out of bounds."""
    for status in (FAILED, NOT_COMPARED):
        for stage in stages:
            if stage.get("status") == status:
                where = stage.get("first_bad") or stage.get("note") or ""
                return f"{stage['stage']} ({status}{': ' + where if where else ''})"
    return ""
