"""Threads: how OpenMP waits, thread budgets, and sides run at once.

OpenMP threads that spin while they wait collapse on a CPU shared with other busy processes: the
port's fast mode with 2 threads on 2 cores under a load average of 9 ran 200-500 tokens/s with
libgomp's default policy and 2,400 with ``OMP_WAIT_POLICY=PASSIVE`` (1 thread: 2,600 either way).
libgomp reads the policy once, when torch loads, so the command line sets it first.

torch's thread count is per calling thread (OpenMP and MKL take it from the thread that enters
them), so the port on one Python thread keeps its own budget while another thread waits on a Java
side's worker process, which gets its budget through its environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


def passive_openmp_waits() -> None:
    """Let OpenMP threads sleep instead of spin at barriers, unless the user chose a policy; call
    before torch is imported (it has no effect afterwards)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def threads_here() -> int:
    """The compute threads this process may use: ``$DJL_PARITY_THREADS`` or every CPU it may run on."""
    from djl_bridge.jvm.engines import thread_budget

    return thread_budget()


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


def with_threads(threads: int, fn: Callable[..., T], *args) -> T:
    """``fn(*args)`` with ``threads`` torch threads on the calling thread."""
    with thread_budget(threads):
        return fn(*args)


def at_once(*tasks: Callable[[], T]) -> list[T]:
    """Run the tasks on threads of their own (a Java side waits on its worker process; the port computes with
    its own thread budget) and return their results in order; the first failure is raised once all ended."""
    with ThreadPoolExecutor(max_workers=len(tasks), thread_name_prefix="djl-parity-side") as pool:
        futures = [pool.submit(t) for t in tasks]
        wait(futures)
    return [f.result() for f in futures]
