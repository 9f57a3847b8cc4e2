"""A sweep job's outcome, read from its command's exit code, and the order of severity of the outcomes.

The commands' exit codes are the README's ("Outcomes and exit codes"); anything else, or death
by a signal, is a crash. The sweep exits with the code of its worst job's outcome.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable

PASS, INCOMPLETE, FAIL = "PASS", "INCOMPLETE", "FAIL"
BAD_INPUT, ENV_MISSING = "BAD-INPUT", "ENV-MISSING"
TIMED_OUT, CRASHED, INTERRUPTED = "TIMED-OUT", "CRASHED", "INTERRUPTED"

#: least to most severe: an answer, then no answer for a reason the user can fix, then none at all
SEVERITY = (PASS, INCOMPLETE, FAIL, BAD_INPUT, ENV_MISSING, TIMED_OUT, CRASHED, INTERRUPTED)

#: the sweep's exit code when this is its worst job's outcome (INTERRUPTED: 128 + the signal)
EXIT_CODES = {PASS: 0, FAIL: 1, BAD_INPUT: 2, ENV_MISSING: 3, INCOMPLETE: 4, TIMED_OUT: 5, CRASHED: 6}

#: a job's own exit code -> its outcome (train and notebook --no-compare: 0 is success, 1 failure)
_BY_EXIT = {0: PASS, 1: FAIL, 2: BAD_INPUT, 3: ENV_MISSING, 4: INCOMPLETE}

#: outcomes that say nothing about the run's inputs: the job is run once more
RETRIED = (CRASHED, TIMED_OUT)


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def from_exit(returncode: int) -> tuple[str, str]:
    """The outcome of a job that ended by itself with ``returncode`` (negative: killed by that signal), and why."""
    if returncode in _BY_EXIT:
        return _BY_EXIT[returncode], ""
    if returncode < 0:
        return CRASHED, f"killed by {signal_name(-returncode)}"
    if returncode in (130, 143):
        return CRASHED, f"stopped by {signal_name(returncode - 128)} from outside the sweep (exit {returncode})"
    return CRASHED, f"exit code {returncode}, not one of djl-parity's"


def worst(outcomes: Iterable[str]) -> str:
    """The most severe of ``outcomes`` (PASS when there are none)."""
    return max(outcomes, key=SEVERITY.index, default=PASS)
