"""The envelope of a run: how far the port drifts from itself when its start or its rounding changes.

SGD on these models is chaotic: a rounding difference at step 1 grows with every step, and how fast
depends on the run itself (its initial weights, config, batches and length). Two engines that round
differently cannot be held to 0 ULP, nor to a tolerance measured on another run. So the envelope is
measured for the run being judged, in the same command, by the port against itself on exactly
that run's config, batches and initial weights:

- **nudged**: every initial weight moved one ULP up or down at random;
- **fast, rows reversed**: the same maths through fused kernels that round differently at every step
  (the loss's reduction, the clipping and the update), fed every batch's rows in reverse order, so that
  every sum over rows (the loss, each gradient) adds in another order, as another engine's kernels do.

The largest |Δ| of each of them against the reference run, per step-1 stage, per step (loss,
gradient norm, each parameter's squared gradient sum), per epoch (perplexity) and at the end
(final parameters), is the envelope. A series' envelope at step k is the largest drift up to k:
a drift that has grown does not shrink in expectation, and two runs that cross at one step would
otherwise leave a chance dip there. The flows make the runs; this module only measures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from djl_bridge.trace import Arrays, Trace

#: How far above the measured self-drift a cross-engine difference may go.
FACTOR = 10.0
STEP1 = ("logits", "state", "loss", "grads", "grad_norm", "clipped_grads", "params_after")


def nudged(params: Arrays, seed: int) -> Arrays:
    """Every element one ULP up or down (a random sign per element), float32."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, a in params.items():
        up = rng.integers(0, 2, a.shape).astype(bool)
        a = np.asarray(a, np.float32)
        out[name] = np.where(up, np.nextafter(a, np.float32(np.inf)), np.nextafter(a, np.float32(-np.inf)))
    return out


def max_abs(a, b) -> float:
    """The largest |a - b| over arrays, name→array mappings or lists of them."""
    if isinstance(a, dict):
        return max((max_abs(a[k], b[k]) for k in a), default=0.0)
    if isinstance(a, list) and a and not np.isscalar(a[0]):
        return max(max_abs(x, y) for x, y in zip(a, b))
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)), initial=0.0))


def _series(a: list, b: list) -> np.ndarray:
    n = min(len(a), len(b))
    return np.abs(np.asarray(a[:n], np.float64) - np.asarray(b[:n], np.float64))


@dataclass(frozen=True)
class Envelope:
    """The port's measured self-drift for one run (max over the perturbed runs)."""

    runs: tuple[str, ...]
    step1: dict[str, float]
    losses: np.ndarray
    grad_norms: np.ndarray
    grad_sq: np.ndarray
    perplexities: np.ndarray
    final: float
    seconds: float

    def sensitivity(self, reference: Trace, share: float = 0.01) -> int | None:
        """The first step (1-based) at which the self-drift of the loss passes ``share`` of the loss."""
        losses = np.abs(np.asarray(reference.losses[: len(self.losses)], np.float64))
        over = np.flatnonzero(self.losses > share * losses)
        return int(over[0]) + 1 if over.size else None


def measure(reference: Trace, perturbed: dict[str, Trace], seconds: float) -> Envelope:
    """The envelope from the reference run and the perturbed runs (name → trace) of the same run."""
    step1 = {s: 0.0 for s in STEP1}
    series: dict[str, np.ndarray] = {}
    final = 0.0
    for other in perturbed.values():
        if reference.steps and other.steps:
            for s in STEP1:
                step1[s] = max(step1[s], max_abs(getattr(reference.steps[0], s), getattr(other.steps[0], s)))
        for key in ("losses", "grad_norms", "grad_sq", "perplexities"):
            d = _series(getattr(reference, key), getattr(other, key))
            series[key] = d if key not in series else np.maximum(series[key], d[: len(series[key])])
        final = max(final, max_abs(reference.final, other.final))
    so_far = {k: np.maximum.accumulate(v, axis=0) if len(v) else v for k, v in series.items()}
    return Envelope(
        tuple(perturbed),
        step1,
        so_far.get("losses", np.zeros(0)),
        so_far.get("grad_norms", np.zeros(0)),
        so_far.get("grad_sq", np.zeros((0, 0))),
        so_far.get("perplexities", np.zeros(0)),
        final,
        seconds,
    )
