"""Two traces of one run judged stage by stage: the stage table, the special stages, the text at the end.

Used by ``compare`` (our helpers against the port) and by ``notebook`` (each recorded training loop
against the port's replay of it). The special stages: ``java.as_published`` (the published model's
first forward, when probed), ``java.run`` (a Java failure: explained only by a registered signature,
and then the remedy is named), ``layout.step1_logits`` (across engines with a fused recurrent op:
the port reading DJL's parameters by name against the engine's logits).
"""

from __future__ import annotations

from djl_bridge.config import RunConfig
from djl_bridge.parity.compare import (
    EXPLAINED,
    FAILED,
    IDENTICAL,
    StageResult,
    compare_stage,
    not_compared,
)
from djl_bridge.parity.divergences import by_name, failure_cause
from djl_bridge.parity.envelope import Envelope
from djl_bridge.parity.judges import allowed, context, explained_text, judge
from djl_bridge.parity.stages import STAGES, Stage
from djl_bridge.trace import Failure, Trace

#: The models whose recurrent layer is one fused engine op (DJL's RNN, GRU, LSTM blocks).
FUSED_RNN_MODELS = ("rnn", "gru", "lstm", "deep-lstm", "bilstm")
TEXT_STAGES = ("printed.perplexity", "predictions")


def mode_of(cfg: RunConfig, engine: str) -> str:
    return cfg.mode if engine == "pytorch" else f"engine:{engine}"


def failure_stage(stage: str, failure: Failure, mode: str, expected: str) -> StageResult:
    """A Java failure: EXPLAINED when a registered signature matches it (its remedy named), FAILED otherwise."""
    java_class, message = failure.root()
    known = failure_cause(java_class, message, failure.stack_trace, mode)
    root = failure.root_cause()[:400]
    if known is None:
        return StageResult(stage, FAILED, expected, note=f"no registered cause matches: {root}")
    return StageResult(stage, EXPLAINED, expected, cause=known.name, note=root, remedy=known.remedy)


def as_published(j: Trace, mode: str) -> StageResult:
    """The published bi-LSTM's first forward: on DJL's PyTorch engine it must fail with the registered signature."""
    if mode.startswith("engine:mxnet"):
        if j.published_failure is None:
            return StageResult("java.as_published", IDENTICAL, "runs", note="the published bi-LSTM trains on MXNet")
        return StageResult("java.as_published", FAILED, "runs", note=f"fails: {j.published_failure.root_cause()[:300]}")
    known = by_name("djl-bilstm-parameter-layout")
    expected = f"fails with {known.failure.exception.rsplit('.', 1)[-1]}"
    if j.published_failure is None:
        why = f"the published bi-LSTM ran on DJL's PyTorch engine: the registry entry {known.name} no longer holds"
        return StageResult("java.as_published", FAILED, expected, note=why)
    return failure_stage("java.as_published", j.published_failure, mode, expected)


def _special(j: Trace, p: Trace, cfg: RunConfig, engine: str) -> list[StageResult]:
    mode = mode_of(cfg, engine)
    out = (
        [as_published(j, mode)]
        if cfg.model == "bilstm" and (j.published_failure or engine != "pytorch" or cfg.layout_fix)
        else []
    )
    if engine == "mxnet" and cfg.model in FUSED_RNN_MODELS and j.steps and p.layout_logits is not None:
        out.append(compare_stage("layout.step1_logits", j.steps[0].logits, p.layout_logits, mode))
    return out


def judge_pair(
    stages: tuple[Stage, ...],
    j: Trace,
    p: Trace,
    cfg: RunConfig,
    mode: str,
    envelope: Envelope | None,
    sides: tuple[str, str] = ("Java", "port"),
) -> list[StageResult]:
    """The stages of ``stages`` on the two traces; the printed text explained by ``engine-rounding`` where every
    numeric stage of a cross-engine run passed."""
    ctx = context(mode, cfg, j, envelope)
    results = [judge(s, j, p, ctx, sides) for s in stages if s.name not in TEXT_STAGES]
    numeric = [
        r for r, s in zip(results, [s for s in stages if s.name not in TEXT_STAGES]) if s.kind in ("array", "series")
    ]
    for s in stages:
        if s.name in TEXT_STAGES:
            r = judge(s, j, p, ctx, sides)
            if mode.startswith("engine:"):
                why = "printed from numbers that differ within the envelope (1 decimal; greedy argmax)"
                r = explained_text(r, numeric, "engine-rounding", why)
            results.append(r)
    return results


def judge_run(j: Trace, p: Trace, cfg: RunConfig, engine: str, envelope: Envelope | None) -> list[StageResult]:
    """Every stage of a ``compare`` run; after a Java failure, the failure and the stages it left uncompared."""
    mode = mode_of(cfg, engine)
    data = tuple(s for s in STAGES if s.group == "data")
    rest = tuple(s for s in STAGES if s.group != "data")
    out = _special(j, p, cfg, engine) + judge_pair(data, j, p, cfg, mode, None)
    if j.failure is None:
        return out + judge_pair(rest, j, p, cfg, mode, envelope)
    failed = failure_stage("java.run", j.failure, mode, "runs")
    why = "the Java side failed before it finished" if failed.status == FAILED else by_name(failed.cause).cause
    return out + [failed] + [not_compared(s.name, mode, why, failed.remedy, failed.cause) for s in rest]


def bands(cfg: RunConfig, engine: str, reference: Trace, envelope: Envelope | None) -> dict[str, list[float]]:
    """The allowed |Δ| per epoch ("perplexity") and per step ("step_loss"), for the report's figures."""
    if envelope is None:
        return {}
    ctx = context(mode_of(cfg, engine), cfg, reference, envelope)
    out = {}
    for key, stage, values in (
        ("perplexity", "epochs.perplexity", reference.perplexities),
        ("step_loss", "steps.loss", reference.losses),
    ):
        band = allowed(stage, values, ctx) if values else None
        out[key] = [] if band is None else [float(x) for x in band]
    return out
