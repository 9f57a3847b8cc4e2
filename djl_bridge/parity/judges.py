"""The judges: each turns one stage of two traces into a finished :class:`StageResult`.

- data stages are equal or not;
- float stages on one engine are identical (0 ULP) unless a registered cause bounds them
  (``parity/tolerances.py``);
- float stages across engines are judged against the run's own envelope (``parity/envelope.py``):
  element by element within :data:`~djl_bridge.parity.envelope.FACTOR` times the measured
  self-drift, never below the float32 error of summing a step's rows (another engine sums them in
  another order: sqrt(rows) ULP of the stage's magnitude per step; for a parameter's squared
  gradients, each gradient off by that at the scale of the step's largest gradient, which a bias
  whose gradient is a cancelling sum needs) and, at step 1, within the cap of the registered cause
  ``engine-rounding``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from djl_bridge.config import RunConfig
from djl_bridge.parity.compare import EXPLAINED, FAILED, StageResult, compare_stage, not_compared
from djl_bridge.parity.divergences import Bound, bound_for
from djl_bridge.parity.envelope import FACTOR, Envelope
from djl_bridge.parity.stages import Stage
from djl_bridge.parity.tolerances import Tolerance
from djl_bridge.trace import Trace


@dataclass(frozen=True)
class Context:
    """What judging a pair of traces needs: the mode, the run's config and, across engines, its envelope."""

    mode: str  # "parity", "fast" or "engine:<engine>"
    cfg: RunConfig
    envelope: Envelope | None = None
    names: tuple[str, ...] = ()  # the parameters, in order (columns of steps.grad_sq)
    #: one float32 ULP of the largest step-1 gradient (the scale of the update's rounding floor)
    grads_ulp: float = 0.0
    #: the step (1-based) from which the port's own last-bit drift passes 1 % of the loss (None: never)
    sensitive_from: int | None = None


def context(mode: str, cfg: RunConfig, reference: Trace, envelope: Envelope | None = None) -> Context:
    """The context for judging against ``reference`` (the trace whose names and magnitudes set the floors)."""
    grads = reference.steps[0].grads if reference.steps else {}
    sensitive = envelope.sensitivity(reference) if envelope is not None else None
    return Context(mode, cfg, envelope, tuple(reference.param_names), _largest_ulp(grads), sensitive)


def judge(
    stage: Stage, java: Trace, port: Trace, ctx: Context, sides: tuple[str, str] = ("Java", "port")
) -> StageResult:
    """The verdict of ``stage`` on the two traces (``sides`` names them where one lacks the stage)."""
    a, b = stage.value(java), stage.value(port)
    if a is None or b is None:
        lacking = sides[0] if a is None else sides[1]
        return not_compared(stage.name, ctx.mode, f"the {lacking} side did not record it", "")
    if stage.kind == "data":
        return compare_stage(stage.name, a, b, ctx.mode, stage.index, Tolerance(exact=True))
    if stage.kind == "init":
        return _own_draws(stage, a, b, ctx)
    if ctx.envelope is None:
        return compare_stage(stage.name, a, b, ctx.mode, stage.index, columns=ctx.names)
    return enveloped(stage, a, b, ctx)


def _own_draws(stage: Stage, a, b, ctx: Context) -> StageResult:
    """Each side's own initial weights from the seed: identical on one libtorch; across engines a
    registered cause may account for the difference (its check decides)."""
    r = compare_stage(stage.name, a, b, ctx.mode, tol=Tolerance(exact=True))
    found = bound_for(stage.name, ctx.mode)
    if r.status != FAILED or found is None:
        return r
    from djl_bridge.parity.distribution import same_distribution

    return same_distribution(stage.name, a, b, found[0].name)


def _ulp(values) -> np.ndarray:
    """One float32 ULP of each value's magnitude."""
    return np.spacing(np.abs(np.asarray(values, np.float32))).astype(np.float64)


def _largest_ulp(values) -> float:
    if isinstance(values, dict):
        return max((_largest_ulp(v) for v in values.values()), default=0.0)
    return float(np.spacing(np.float32(np.max(np.abs(np.asarray(values, np.float64)), initial=0.0))))


def _floor(stage: str, a, ctx: Context) -> float | np.ndarray:
    """The float32 error of summing a step's rows in another order, at ``stage`` (``a``: its values)."""
    cfg, grads_ulp = ctx.cfg, ctx.grads_ulp
    rows = float(np.sqrt(cfg.batch_size * cfg.num_steps))
    if stage in ("step1.logits", "step1.state"):
        return _largest_ulp(a)
    if stage in ("step1.loss", "step1.grad_norm"):
        return rows * _largest_ulp(a)
    if stage in ("step1.grads", "step1.clipped_grads"):
        return rows * grads_ulp
    if stage == "step1.params_after":
        return rows * grads_ulp * cfg.lr
    if stage in ("steps.loss", "steps.grad_norm"):
        return rows * _ulp(a)
    if stage == "steps.grad_sq":  # sum of g^2 with each g off by rows ULP of the step's largest gradient (<= norm)
        sq = np.asarray(a, np.float64)
        norm = np.sqrt(sq.sum(axis=1, keepdims=True))
        return 2 * rows * np.maximum(_ulp(sq), np.sqrt(sq) * _ulp(norm))
    if stage == "epochs.perplexity":
        ppl = np.asarray(a, np.float64)
        return ppl * rows * _ulp(np.log(ppl))
    if stage == "final.params":  # the update's rounding at every step of the run
        return rows * grads_ulp * cfg.lr * len(ctx.envelope.losses if ctx.envelope else [])
    raise ValueError(f"no floor for {stage}")


def _measured(stage: str, env: Envelope, n: int):
    """The envelope's self-drift at ``stage`` (per step or epoch for a series; None beyond its range)."""
    if stage.startswith("step1."):
        return env.step1[stage.split(".", 1)[1]]
    series = {
        "steps.loss": env.losses,
        "steps.grad_norm": env.grad_norms,
        "steps.grad_sq": env.grad_sq,
        "epochs.perplexity": env.perplexities,
    }[stage]
    return series[:n] if len(series) >= n else None


def allowed(stage: str, a, ctx: Context) -> np.ndarray | None:
    """The largest |Δ| allowed at ``stage`` (element-wise for a series), or None beyond the envelope's range."""
    env = ctx.envelope
    assert env is not None
    n = len(a) if stage.startswith(("steps.", "epochs.")) else 0
    measured = env.final if stage == "final.params" else _measured(stage, env, n)
    return None if measured is None else FACTOR * np.maximum(measured, _floor(stage, a, ctx))


def enveloped(stage: Stage, a, b, ctx: Context) -> StageResult:
    """A float stage across engines: within FACTOR × max(self-drift, floor), and within the cause's cap."""
    allowed_ = allowed(stage.name, a, ctx)
    if allowed_ is None:
        env = ctx.envelope
        why = f"the envelope covers {len(env.losses)} step(s) and {len(env.perplexities)} epoch(s); this run has more"
        return not_compared(stage.name, ctx.mode, why, "")
    found = bound_for(stage.name, ctx.mode)
    cause = found[0].name if found else None
    shown = f"envelope × {FACTOR:g} (≤ {float(np.max(allowed_, initial=0.0)):.3g})"
    tol = Tolerance(bound=Bound(atol=allowed_), cause=cause)
    r = compare_stage(stage.name, a, b, ctx.mode, stage.index, tol, ctx.names, tolerance=shown)
    if r.status == FAILED or found is None:
        return r
    cap = _cap_until_sensitive(stage.name, found[1], ctx.sensitive_from)
    if cap is None:
        return r
    capped = compare_stage(stage.name, a, b, ctx.mode, stage.index, Tolerance(bound=cap), ctx.names)
    if capped.status != FAILED:
        return r
    note = f"beyond the cap of {cause}: {found[1].describe()}"
    return replace(r, status=FAILED, first_bad=capped.first_bad, cause=None, note=note)


def _cap_until_sensitive(stage: str, cap: Bound, sensitive_from: int | None) -> Bound | None:
    """The cause's cap where it holds: a step-1 stage's, unless the run's own last-bit drift already passes
    1 % of the loss at step 1 (then the envelope alone judges it, as it judges every later stage)."""
    return None if stage.startswith("step1.") and sensitive_from == 1 else cap


def explained_text(result: StageResult, numeric: list[StageResult], cause: str, why: str) -> StageResult:
    """Printed text (predictions, the 1-decimal perplexity) that differs although every numeric stage
    passed: explained by ``cause`` (greedy argmax and rounding over numbers within their bounds)."""
    if result.status != FAILED or not numeric or not all(s.passed for s in numeric):
        return result
    return replace(result, status=EXPLAINED, first_bad=None, cause=cause, note=why)
