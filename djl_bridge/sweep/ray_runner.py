"""Sweep jobs as Ray tasks, on a local instance the sweep starts and stops, or on a cluster (``--address``).

Each job is a task that declares the job's CPU threads as its ``num_cpus``, so Ray never runs
more threads than there are cores. A task runs one attempt (``jobs.run_attempt``) and reports
its process as it starts through a Ray queue, for the progress lines. A crashed or timed-out
attempt is submitted once more. On an interrupt every task is cancelled (Ray raises
KeyboardInterrupt in it, and the attempt stops its job's process group); what is left of a job
on this machine after the grace period is killed from here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import logging
import os
import secrets
import signal
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from djl_bridge.sweep import outcomes
from djl_bridge.sweep.jobs import GRACE_S, Attempt, Request, run_attempt

INSTALL = "pip install -e '.[sweep]' in the project's environment (bash scripts/setup.sh does it)"
_POLL_S = 0.5


class RayUnavailable(RuntimeError):
    """Ray is not installed, or the cluster cannot be reached: exit 3."""


def require_ray() -> None:
    """Fail with the install command when Ray is not installed (without importing it: Ray reads its
    settings, such as the local instance's authentication, from the environment when first imported)."""
    try:
        found = importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):  # ValueError: sys.modules holds None for it, which makes it unimportable
        found = False
    if not found:
        raise RayUnavailable(f"djl-parity sweep runs its jobs on Ray, which is not installed: {INSTALL}")


@dataclass
class RayStats:
    """Where the jobs ran and what Ray itself cost; filled in as the session starts and stops."""

    address: str
    local: bool
    cpus: float = 0.0
    node_cpus: float = 0.0  # the most CPUs of any one node: no job can declare more
    start_s: float = 0.0
    stop_s: float = 0.0


@contextlib.contextmanager
def _local_auth() -> Iterator[None]:
    """Token authentication for the local instance, with a token kept in this process (none written to ~/.ray)."""
    saved = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    os.environ |= {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    try:
        yield
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """Fail fast when a HOST:PORT address does not answer: ray.init would retry for minutes."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto", or a form Ray resolves itself
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise RayUnavailable(f"cannot reach Ray at {address}: {exc}") from None


@contextlib.contextmanager
def ray_session(address: str | None, cpus: int) -> Iterator[RayStats]:
    """Start a local Ray instance with ``cpus`` CPUs (or connect to ``address``); stop it (or disconnect) after."""
    if address is not None:
        _check_reachable(address)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    stats = RayStats(address or "local", address is None)
    t0 = time.perf_counter()
    with _local_auth() if address is None else contextlib.nullcontext():
        import ray  # first imported here, in the environment _local_auth set

        try:
            try:
                ray.init(**({"num_cpus": cpus} if address is None else {"address": address}), **quiet)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = f" at {address}" if address else ""
                raise RayUnavailable(f"cannot start or reach Ray{where}: {str(exc).splitlines()[0]}") from None
            finally:
                for sig, handler in handlers.items():  # ray.init sets its own SIGTERM handler: the CLI's decide
                    signal.signal(sig, handler)
            nodes = [n["Resources"].get("CPU", 0.0) for n in ray.nodes() if n.get("Alive")]
            stats.cpus, stats.node_cpus = sum(nodes), max(nodes, default=0.0)
            stats.start_s = round(time.perf_counter() - t0, 3)
            yield stats
        finally:
            t1 = time.perf_counter()
            ray.shutdown()
            stats.stop_s = round(time.perf_counter() - t1, 3)


def _task(req: Request, queue) -> Attempt:
    """One attempt, in a Ray worker; its process is announced on ``queue`` as it starts."""
    return run_attempt(req, lambda pid, host: queue.put((req.name, pid, host)))


def _lost(req: Request, detail: str) -> Attempt:
    """An attempt whose Ray task itself failed (its worker died): a crash, with what Ray said."""
    return Attempt(req.number, outcomes.CRASHED, -1, detail, "", 0.0, "", -1, req.log, {})


Event = Callable[..., None]


def run_jobs(requests: list[Request], on_event: Event, check_interrupts: Callable[[], None]) -> None:
    """Run every request as a Ray task until each has its final attempt; retry crashes and timeouts once.

    ``on_event`` hears ``("start", req, pid, host)``, ``("attempt", req, attempt, will_retry)`` and
    ``("done", req, attempts)``. ``check_interrupts`` raises when a signal came (see
    ``signals.deferred``); an interrupt, or any other exception here, cancels every task and stops
    the jobs' process groups before it propagates.
    """
    import ray
    from ray.util.queue import Queue

    remote = ray.remote(_task)
    queue = Queue(actor_options={"num_cpus": 0})
    pending: dict = {}  # task -> its request
    current: dict[str, Request] = {}
    running: dict[str, tuple[int, str]] = {}
    attempts: dict[str, list[Attempt]] = {}

    def submit(req: Request) -> None:
        current[req.name] = req
        pending[remote.options(num_cpus=req.cpus, max_retries=0, name=req.name).remote(req, queue)] = req

    for req in requests:
        submit(req)
    try:
        while pending:
            check_interrupts()
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=_POLL_S, fetch_local=False)
            while not queue.empty():
                name, pid, host = queue.get_nowait()
                running[name] = (pid, host)
                on_event("start", current[name], pid, host)
            for ref in ready:
                req = pending.pop(ref)
                running.pop(req.name, None)
                try:
                    attempt = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    attempt = _lost(req, f"the Ray task failed: {str(exc).splitlines()[0]}")
                attempts.setdefault(req.name, []).append(attempt)
                retry = attempt.outcome in outcomes.RETRIED and req.number == 1
                on_event("attempt", req, attempt, retry)
                if retry:
                    submit(dataclasses.replace(req, number=2))
                else:
                    on_event("done", req, attempts[req.name])
    except BaseException:
        _stop(list(pending), running)
        raise


def _stop(refs: list, running: dict[str, tuple[int, str]]) -> None:
    """Cancel the tasks (each stops its job's process group), wait for them, kill what is left on this machine."""
    import ray

    for ref in refs:
        with contextlib.suppress(Exception):
            ray.cancel(ref)
    with contextlib.suppress(Exception):
        ray.wait(refs, num_returns=len(refs), timeout=GRACE_S + 5, fetch_local=False)
    here = socket.gethostname()
    for pid, host in running.values():
        if host == here:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
