"""The command line's errors as exit codes: one line on stderr, 2 for bad input, 3 for a missing part."""

from __future__ import annotations

import contextlib

import click


def one_line(message: str) -> str:
    """A message as one line: its non-blank lines joined by " | " (an error is one line on stderr)."""
    return " | ".join(ln.strip() for ln in message.splitlines() if ln.strip())


class InputError(click.ClickException):
    """Bad input: one line on stderr, exit code 2, nothing written."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


class SetupFailure(click.ClickException):
    """A missing or broken part of the environment: one line on stderr, exit code 3."""

    exit_code = 3

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


def checked_ints(*checks: tuple[str, int, int]) -> None:
    """Options outside a run's config, each (option, value, lowest allowed) up to a Java int; exit 2 otherwise."""
    from djl_bridge.config import ConfigError, check_int

    try:
        for option, value, low in checks:
            check_int(option, value, low)
    except ConfigError as exc:
        raise InputError(str(exc)) from None


def preflight(engine: str) -> None:
    """The Java side's parts (JDK, the Maven build of ``engine``, its libtorch) checked before any work: exit 3."""
    from djl_bridge.jvm.runtime import BridgeSetupError, preflight

    try:
        preflight(engine)
    except BridgeSetupError as exc:
        raise SetupFailure(str(exc)) from None


@contextlib.contextmanager
def side_errors():
    """A side's errors as exit codes: bad input 2, a missing or broken environment (a worker that cannot
    start its engine, crashes or hangs) 3."""
    from djl_bridge.config import ConfigError
    from djl_bridge.jvm.runtime import BridgeSetupError

    try:
        yield
    except ConfigError as exc:
        raise InputError(str(exc)) from None
    except BridgeSetupError as exc:
        raise SetupFailure(str(exc)) from None


def failure_line(failure, engine: str) -> str:
    """A Java failure's root cause, with the registered cause it matches."""
    from djl_bridge.parity.divergences import failure_cause

    known = failure_cause(*failure.root(), failure.stack_trace, "parity" if engine == "pytorch" else f"engine:{engine}")
    return failure.root_cause() + (f" [known divergence {known.name}: {known.cause}]" if known else "")
