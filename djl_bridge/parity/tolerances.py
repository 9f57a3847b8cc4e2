"""THE tolerance policy: how close each stage of the two sides must be, per Python mode.

Data stages (text, vocabulary, corpus, batches, initial weights, predictions) must be equal. Float
stages must be identical (0 ULP, see :mod:`djl_bridge.parity.compare` for what identical means
for signed zeros and NaN) unless a registered divergence accounts for a difference there: then
the stage may differ up to that divergence's bound, and the difference is attributed to it.
Every tolerance other than "identical" is therefore a measured bound with a named cause
(:mod:`djl_bridge.parity.divergences`).
"""

from __future__ import annotations

from dataclasses import dataclass

from djl_bridge.parity.divergences import Bound, bound_for
from djl_bridge.parity.stages import DATA_STAGES


@dataclass(frozen=True)
class Tolerance:
    """``exact`` demands equality; otherwise a :class:`Bound` (none: identical) and the cause behind it."""

    exact: bool = False
    bound: Bound | None = None
    cause: str | None = None

    def describe(self) -> str:
        if self.exact:
            return "exact"
        if self.bound is None:
            return "identical (0 ULP)"
        return f"{self.bound.describe()} ({self.cause})"


def tolerance_for(stage: str, mode: str) -> Tolerance:
    """The declared tolerance of ``stage`` when the Python side runs in ``mode``.

    ``mode`` ``engine:<engine>`` is a comparison across engines (``flows/compare.py``):
    there the float stages of a run are judged against the run's envelope (``parity/judges.py``).
    """
    if mode not in ("parity", "fast") and not mode.startswith("engine:"):
        raise ValueError(f"unknown mode {mode!r}")
    if stage in DATA_STAGES:
        return Tolerance(exact=True)
    found = bound_for(stage, mode)
    if found is None:
        return Tolerance()
    divergence, bound = found
    return Tolerance(bound=bound, cause=divergence.name)
