"""The calibrated envelope: how far two runs of the port drift apart when their start differs in the last bit.

SGD on these models is chaotic: a rounding difference at step 1 grows with every step. Two
engines that round differently cannot be held to 0 ULP, nor to a guessed tolerance. The
envelope measures the growth instead: ``scripts/calibrate_envelope.py`` runs the port against
itself from initial weights perturbed by one ULP (a few seeds) and records, per config, the
largest drift of each step-1 stage, of every step's loss, of every epoch's perplexity and of the
parameters after every epoch. The numbers live in ``envelope.json`` next to this module (one
home, with the command that produced them).

A cross-engine run passes a stage when its difference stays within :data:`FACTOR` times the
envelope; otherwise the stage fails, naming the first step or epoch out of the envelope, or the
worst parameter. No calibration of the port against itself can measure how another engine sums
a step's rows (MXNet's reductions give step-1 gradients about 20-70 ULP of their largest value
away from libtorch's, measured), so each bound has a floor: the float32 error of summing
``batch × steps`` rows, sqrt(rows) ULP of the stage's magnitude, per training step
(``parity/cross_engine.py`` applies it). A wrong update, layout or loss is orders of magnitude
beyond either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENVELOPE_FILE = Path(__file__).with_name("envelope.json")
#: How far above the measured self-drift a cross-engine difference may go.
FACTOR = 10.0
#: Step-1 stages judged against the envelope (per stage, the largest |Δ| over all elements).
STEP1_STAGES = (
    "step1.logits",
    "step1.state",
    "step1.loss",
    "step1.grads",
    "step1.grad_norm",
    "step1.clipped_grads",
    "step1.params_after",
)
#: The config fields an envelope depends on.
KEY_FIELDS = ("model", "hidden", "layers", "lr", "batch_size", "num_steps", "max_tokens", "port_engine")


def config_key(cfg: dict) -> str:
    """The envelope's key for a resolved config (as a dict)."""
    return ",".join(f"{k}={cfg[k]}" for k in KEY_FIELDS)


@dataclass(frozen=True)
class Envelope:
    """One config's measured self-drift (max over seeds): |Δ| per step-1 stage, per step, per epoch."""

    key: str
    seeds: int
    step1_abs: dict[str, float]
    step_loss_abs: list[float]
    epoch_ppl_abs: list[float]
    epoch_params_abs: list[float]
    command: str = ""

    def bound(self, values: list[float], i: int) -> float | None:
        """FACTOR × the measured drift at index ``i`` (None beyond the calibrated range)."""
        return FACTOR * values[i] if i < len(values) else None


def load(path: Path = ENVELOPE_FILE) -> dict[str, Envelope]:
    if not path.is_file():
        return {}
    doc = json.loads(path.read_text())
    return {k: Envelope(k, **v) for k, v in doc.get("envelopes", {}).items()}


def find(cfg: dict, path: Path = ENVELOPE_FILE) -> Envelope | None:
    """The envelope measured for ``cfg``'s key, or None when that config was never calibrated."""
    return load(path).get(config_key(cfg))


@dataclass
class Judgement:
    """A stage judged against the envelope: worst |Δ|, its bound, and where it first went out."""

    within: bool
    max_abs: float
    bound: float | None
    first_out: str | None
    note: str


def judge_series(java: list[float], python: list[float], bounds: list[float], index_name: str) -> Judgement:
    """A per-step or per-epoch series: each |Δ_i| must stay within FACTOR × bounds[i]."""
    n = min(len(java), len(python))
    diffs = np.abs(np.asarray(java[:n], np.float64) - np.asarray(python[:n], np.float64))
    first_out, uncalibrated = None, 0
    for i, d in enumerate(diffs):
        if i >= len(bounds):
            uncalibrated += 1
            continue
        if d > FACTOR * bounds[i] and first_out is None:
            first_out = f"{index_name} {i + 1}: |Δ| {d:.3g} > {FACTOR:g} × {bounds[i]:.3g}"
    note = f"{uncalibrated} {index_name}(s) beyond the calibrated range, not judged" if uncalibrated else ""
    calibrated = min(n, len(bounds))
    return Judgement(
        first_out is None and calibrated > 0,
        float(diffs.max()) if n else 0.0,
        FACTOR * max(bounds[:calibrated]) if calibrated else None,
        first_out,
        note or ("no calibrated steps" if not calibrated else ""),
    )


def judge_arrays(java: dict[str, np.ndarray], python: dict[str, np.ndarray], bound: float) -> Judgement:
    """Named arrays (parameters, gradients): the largest |Δ| must stay within FACTOR × bound; names the worst."""
    worst, worst_name = 0.0, None
    for name in java:
        d = float(
            np.max(np.abs(np.asarray(java[name], np.float64) - np.asarray(python[name], np.float64)), initial=0.0)
        )
        if d > worst:
            worst, worst_name = d, name
    limit = FACTOR * bound
    out = worst > limit
    where = f"worst parameter {worst_name}: |Δ| {worst:.3g}" if worst_name else "no difference"
    return Judgement(not out, worst, limit, where if out else None, where)
