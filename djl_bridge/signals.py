"""Ctrl-C and SIGTERM as exit codes a script can trust: 130 and 143, after the work in progress unwinds.

The JVM is started with ``-Xrs`` and without JPype's own ^C handling (see ``jvm/runtime.py``), so
neither signal reaches the JVM: DJL's shutdown hook never runs while libtorch is still computing
(which used to crash the JVM with SIGABRT and an ``hs_err`` report). Python's handler raises
:class:`Interrupted` in the main thread at the next point it runs Python code (between training
steps, or in the per-epoch callback of a Java training loop); ``finally`` blocks remove staged
outputs, and the command line exits with ``128 + signal number`` without starting the JVM's exit
sequence.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass


class Interrupted(BaseException):
    """Raised in the main thread when SIGINT or SIGTERM arrives (a BaseException: nothing swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class Interrupts:
    """The first interrupting signal received, if any."""

    signum: int | None = None

    @property
    def received(self) -> bool:
        return self.signum is not None

    @property
    def exit_code(self) -> int:
        assert self.signum is not None
        return 128 + self.signum

    @property
    def name(self) -> str:
        assert self.signum is not None
        return signal.Signals(self.signum).name


def install() -> Interrupts:
    """Route SIGINT and SIGTERM to :class:`Interrupted`; later signals are ignored while the first unwinds."""
    state = Interrupts()

    def handler(signum: int, _frame: object) -> None:
        if state.signum is not None:
            return
        state.signum = signum
        raise Interrupted(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
    return state


@contextlib.contextmanager
def deferred() -> Iterator[Callable[[], None]]:
    """Within the block, SIGINT and SIGTERM are recorded, not raised: the block calls the yielded check at
    points where it can unwind, and the check raises :class:`Interrupted` for the first one (so does the
    block's end). For loops around native calls (Ray's) that an exception raised from a signal handler
    would corrupt; later signals are ignored, as with :func:`install`.
    """
    received: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        if not received:
            received.append(signum)

    def check() -> None:
        if received:
            raise Interrupted(received[0])

    saved = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield check
        check()
    finally:
        for sig, old in saved.items():
            signal.signal(sig, old)
