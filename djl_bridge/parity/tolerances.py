"""THE tolerance policy: how close each stage of the two sides must be, per Python mode.

Both sides run the same libtorch 2.7.1 in one process, so in ``parity`` mode every stage must be
bit-identical (0 ULP), with one exception: the per-epoch perplexity is ``exp`` of a bit-identical
float32 mean loss, taken by Java's ``Math.exp`` on one side and C's libm ``exp`` on the other, which
may round the last bit of a double differently (divergence ``java-math-exp``). ``fast`` mode computes the same maths with fused PyTorch ops whose rounding
differs, so from the first logits on it is held to stated float tolerances instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerance:
    """``max_ulp`` (floats, per element) and/or ``atol + rtol*|ref|``; ``exact`` demands equality."""

    exact: bool = False
    max_ulp: int | None = None
    atol: float = 0.0
    rtol: float = 0.0

    def describe(self) -> str:
        if self.exact:
            return "exact"
        parts = []
        if self.max_ulp is not None:
            parts.append(f"≤{self.max_ulp} ULP")
        if self.atol or self.rtol:
            parts.append(f"|Δ| ≤ {self.atol:g} + {self.rtol:g}·|ref|")
        return " or ".join(parts) or "exact"


EXACT = Tolerance(exact=True)
BIT_IDENTICAL = Tolerance(max_ulp=0)

#: Stages that are data, not float arithmetic: equal or not.
DATA_STAGES = ("lines", "tokens", "vocab", "corpus", "offset", "batches.x", "batches.y", "init.params",
               "predictions")

#: fast mode, per float stage: (atol, rtol). Losses and perplexities are scalars per step/epoch;
#: gradients and parameters drift as the runs go on, so later stages get more room.
_FAST: dict[str, tuple[float, float]] = {
    "step1.logits": (1e-6, 1e-5),
    "step1.state": (1e-6, 1e-5),
    "step1.loss": (0.0, 1e-6),
    "step1.grads": (1e-7, 1e-4),
    "step1.grad_norm": (0.0, 1e-5),
    "step1.clipped_grads": (1e-7, 1e-4),
    "step1.params_after": (1e-7, 1e-5),
    "steps.loss": (0.0, 1e-4),
    "epochs.perplexity": (0.0, 1e-2),
    "final.params": (1e-3, 1e-2),
}


def tolerance_for(stage: str, mode: str) -> Tolerance:
    """The declared tolerance of ``stage`` when the Python side runs in ``mode``."""
    if stage in DATA_STAGES:
        return EXACT
    if mode == "parity":
        return Tolerance(max_ulp=1) if stage == "epochs.perplexity" else BIT_IDENTICAL
    if mode == "fast":
        atol, rtol = _FAST[stage]
        return Tolerance(atol=atol, rtol=rtol)
    raise ValueError(f"unknown mode {mode!r}")
