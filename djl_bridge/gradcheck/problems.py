"""The gradient checks' problems, thresholds and error measures (no torch: a worker computes them too)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MODELS = ("birnn-hand", "rnn-scratch", "gru-scratch", "lstm-scratch")
SIDES = ("python", "java")
#: threshold per check. Float64 autograd agrees to rounding: measured worst 1.6e-15 (birnn-hand,
#: seed 0) and 0 for DJL against PyTorch (the same libtorch ops). Central differences are limited by
#: e**2 truncation and rounding/e: measured worst 7.1e-10 (birnn-hand) and 2.4e-8 (gru-scratch).
THRESHOLDS = {"hand-vs-autograd": 1e-10, "djl-vs-torch": 1e-10, "finite-diff": 1e-6}
FD_STEP = 1e-5
FD_ENTRIES = 4
WEIGHT_SCALE = 0.5  # large enough that tanh/sigmoid are well off their linear part


@dataclass(frozen=True)
class Problem:
    vocab: int
    hidden: int
    batch: int
    steps: int
    from_boundary: bool  # birnn-hand: start at the boundary h_0; scratch: zero state
    bias: bool = False
    learn_boundary: bool = False


#: vocabulary 29 is the Java side's character vocabulary of The Time Machine
HAND_PROBLEMS = (
    Problem(29, 6, 2, 5, True, bias=True, learn_boundary=True),
    Problem(29, 5, 3, 4, True),
    Problem(7, 4, 4, 3, False, bias=True, learn_boundary=True),
    Problem(7, 3, 1, 1, True, bias=True, learn_boundary=True),
)
SCRATCH_PROBLEMS = (Problem(29, 5, 3, 4, True), Problem(7, 4, 2, 3, False))


@dataclass
class Row:
    side: str
    check: str
    param: str
    error: float

    @property
    def threshold(self) -> float:
        return THRESHOLDS[self.check]

    @property
    def ok(self) -> bool:
        return bool(self.error <= self.threshold)


Arrays = dict[str, np.ndarray]
LossAt = Callable[[str, np.ndarray], float]


def relative_error(got: np.ndarray, ref: np.ndarray) -> float:
    """``max |got - ref| / max |ref|``; 0 when both are all zero."""
    diff = float(np.max(np.abs(got - ref), initial=0.0))
    scale = float(np.max(np.abs(ref), initial=0.0))
    return 0.0 if diff == 0.0 else diff / max(scale, np.finfo(np.float64).tiny)


def finite_difference_errors(
    grads: Arrays, weights: Arrays, loss_at: LossAt, rng: np.random.Generator
) -> dict[str, float]:
    """Per parameter: central differences at a few random entries against ``grads``.
    ``loss_at(name, value)`` is the loss with that parameter replaced by ``value``."""
    out = {}
    for name, g in grads.items():
        w = weights[name]
        scale = max(float(np.max(np.abs(g))), np.finfo(np.float64).tiny)
        worst = 0.0
        for i in rng.choice(w.size, size=min(FD_ENTRIES, w.size), replace=False):
            plus, minus = w.copy().reshape(-1), w.copy().reshape(-1)
            plus[i] += FD_STEP
            minus[i] -= FD_STEP
            fd = (loss_at(name, plus.reshape(w.shape)) - loss_at(name, minus.reshape(w.shape))) / (2 * FD_STEP)
            diff = abs(fd - float(g.reshape(-1)[i]))
            worst = max(worst, 0.0 if diff == 0.0 else diff / scale)
        out[name] = worst
    return out
