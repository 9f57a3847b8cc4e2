"""Threads: how OpenMP waits, and the two sides of a comparison one after the other or at once.

OpenMP threads that spin while they wait collapse on a CPU shared with other busy processes: the
port's fast mode with 2 threads on 2 cores under a load average of 9 ran 200-500 tokens/s with
libgomp's default policy and 2,400 with ``OMP_WAIT_POLICY=PASSIVE`` (1 thread: 2,600 either way).
libgomp reads the policy once, when torch loads, so the command line sets it first.

The sides of a comparison share one libtorch. Its thread count is per calling thread (OpenMP and MKL take it from
the thread that enters them), and JPype releases the GIL while Java runs, so a Java side on one
Python thread and the port on another really run in parallel, each with its own thread budget.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


def passive_openmp_waits() -> None:
    """Let OpenMP threads sleep instead of spin at barriers, unless the user chose a policy; call
    before torch is imported (it has no effect afterwards)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class Stopped(Exception):
    """The other side failed or was interrupted; this side stopped at its next epoch."""


@dataclass
class PairTiming:
    """Wall-clock seconds of each side and of the whole, and how they ran."""

    first_s: float
    second_s: float
    whole_s: float
    concurrent: bool
    threads_per_side: int


@contextmanager
def thread_budget(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` intra-op threads on this thread, then restore the previous count."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class SidePair:
    """Run ``first(ready)`` and then ``second()``; ``first`` calls ``ready()`` once ``second`` may start
    (its initial weights exist). Concurrently, ``first`` runs on a worker thread and ``second`` on this
    one, each with half the threads; a failure on either side stops the other at its next ``check()``."""

    def __init__(self, concurrent: bool) -> None:
        self.concurrent = concurrent
        self._stop = threading.Event()

    def check(self) -> None:
        """Called by each side between epochs: raise :class:`Stopped` once the other side has failed."""
        if self._stop.is_set():
            raise Stopped("the other side stopped")

    def run(self, first: Callable[[Callable[[], None]], None], second: Callable[[], None]) -> PairTiming:
        import torch

        t0 = time.perf_counter()
        if not self.concurrent:
            first(lambda: None)
            t1 = time.perf_counter()
            second()
            t2 = time.perf_counter()
            return PairTiming(t1 - t0, t2 - t1, t2 - t0, False, torch.get_num_threads())
        budget = max(1, torch.get_num_threads() // 2)
        ready = threading.Event()
        errors: list[BaseException] = []
        first_s = [0.0]

        def worker() -> None:
            try:
                with thread_budget(budget):
                    first(ready.set)
            except BaseException as exc:  # noqa: BLE001  (handed to the calling thread)
                errors.append(exc)
                self._stop.set()
            finally:
                first_s[0] = time.perf_counter() - t0
                ready.set()

        thread = threading.Thread(target=worker, name="djl-parity-side", daemon=False)
        thread.start()
        try:
            ready.wait()
            if errors:
                raise errors[0]
            t1 = time.perf_counter()
            with thread_budget(budget):
                second()
            second_s = time.perf_counter() - t1
        except BaseException:
            self._stop.set()
            thread.join()
            if errors and not isinstance(errors[0], Stopped):
                raise errors[0] from None
            raise
        thread.join()
        if errors:
            raise errors[0]
        return PairTiming(first_s[0], second_s, time.perf_counter() - t0, True, budget)
