"""The comparison across engines: our Java helpers on another DJL engine (in a worker) against the port.

The Java side runs in a worker (``sides/worker.py``) on ``mxnet`` (DJL 0.23 + MXNet 1.9, the
notebook as published) or ``pytorch-native`` (DJL 0.35.1 on its own libtorch). The port follows
that engine's behaviours (``RunConfig.port_engine``). Stages:

- ``java.as_published``: the model exactly as published runs on the engine (bi-LSTM only);
- the data stages, exact;
- ``init.independent``: each side's own seeded initial weights (engines draw different numbers);
- ``init.transfer``: the Java side's weights moved to the port, exact;
- ``layout.step1_logits`` (MXNet): the port reading DJL's parameters by name, as libtorch would,
  against MXNet's logits: shows whether MXNet's fused op reads the flat vector differently;
- step 1, every step's loss, every epoch's perplexity and the final parameters, judged against
  the calibrated envelope (``parity/envelope.py``);
- predictions: exact; a difference is explained when the runs stayed within the envelope.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from djl_bridge.config import ConfigError, RunConfig
from djl_bridge.parity import envelope as env
from djl_bridge.parity.compare import EXPLAINED, FAILED, IDENTICAL, StageResult, compare_stage, not_compared
from djl_bridge.parity.report import Report
from djl_bridge.parity.tolerances import Tolerance, envelope_tolerance
from djl_bridge.trace import Trace, python_data, python_run

#: The models whose recurrent layer is one fused engine op (DJL's RNN, GRU, LSTM blocks).
FUSED_RNN_MODELS = ("rnn", "gru", "lstm", "deep-lstm", "bilstm")
#: Stages only a comparison across engines produces.
ENGINE_STAGES = ("layout.step1_logits",)
Progress = Callable[[str], None]
EpochProgress = Callable[[str, int, float, float], None]


def _mode(engine: str) -> str:
    return f"engine:{engine}"


def port_config(cfg: RunConfig, engine: str) -> RunConfig:
    """The port's config for a comparison with ``engine``: it reproduces that engine's behaviours."""
    return replace(cfg, port_engine="mxnet" if engine == "mxnet" else "pytorch")


def djl_order_logits(cfg: RunConfig, trace: Trace) -> np.ndarray:
    """The port's step-1 logits from the Java side's weights, read by name in libtorch's layout."""
    import torch

    from djl_bridge.models import build_model
    from djl_bridge.params import from_djl

    net = build_model(cfg.model, len(trace.vocab), cfg.hidden, cfg.layers)
    from_djl(net, trace.init_params)
    with torch.no_grad():
        logits, _ = net(torch.from_numpy(trace.batches_x[0]))
    return logits.numpy()


def _resolution(values) -> float:
    """One float32 ULP of the largest magnitude in ``values``: the finest difference a stage can show."""
    if isinstance(values, dict):
        return max(_resolution(v) for v in values.values())
    m = float(np.max(np.abs(np.asarray(values, np.float64)), initial=0.0))
    return float(np.spacing(np.float32(m)))


def _judged(stage: str, java, python, bound: float, mode: str, index_name: str = "") -> StageResult:
    """Within ``bound`` (the run's envelope) and within the registered cause's cap."""
    envelope, cap = envelope_tolerance(stage, mode, bound)
    r = compare_stage(stage, java, python, mode, index_name, tol=envelope)
    r.tolerance = f"envelope: |Δ| ≤ {bound:.3g}"
    capped = compare_stage(stage, java, python, mode, index_name, tol=cap)
    if capped.status == FAILED and r.passed:
        r.status, r.first_bad = FAILED, capped.first_bad
        r.note = f"beyond the cap of {cap.cause}: {cap.describe()}"
    return r


def _series(
    stage: str,
    java: list[float],
    python: list[float],
    bounds: list[float],
    floors: list[float],
    mode: str,
    index_name: str,
    band: list[float],
    remedy: str,
) -> StageResult:
    """A per-step or per-epoch series: entry i within FACTOR × max(envelope_i, floor_i) (filled into ``band``).

    Entries beyond the calibrated range make the stage not compared (unless an earlier one failed).
    """
    limits = [max(b, f) for b, f in zip(bounds, floors)]
    band[:] = [env.FACTOR * x for x in limits]
    j = env.judge_series(java, python, limits, index_name)
    r = _judged(stage, java, python, float("inf"), mode, index_name)
    capped_out = r.status == FAILED  # within any envelope, beyond the registered cause's cap
    r.tolerance = f"envelope × {env.FACTOR:g} (≤ {j.bound:.3g})" if j.bound is not None else "envelope"
    if j.first_out is not None:
        r.status, r.cause, r.first_bad, r.note = FAILED, None, j.first_out, j.note
    elif capped_out:
        r.cause = None
    elif j.note:  # part of the series lies beyond the calibrated range
        return not_compared(stage, mode, j.note, remedy)
    return r


def calibration_remedy(cfg: RunConfig, engine: str) -> str:
    """The command that calibrates the envelope for ``cfg`` on ``engine``."""
    key = port_config(cfg, engine)
    return (
        f"python scripts/calibrate_envelope.py --model {key.model} --hidden {key.hidden} --layers {key.layers} "
        f"--max-tokens {key.max_tokens} --batch-size {key.batch_size} --lr {key.lr} --epochs {cfg.epochs} "
        f"--port-engine {key.port_engine}"
    )


def rows_ulps(cfg: RunConfig) -> float:
    """sqrt(batch × steps): the ULPs of a stage's magnitude by which two summation orders of a step's rows differ."""
    return float(np.sqrt(cfg.batch_size * cfg.num_steps))


def final_params_stage(
    cfg: RunConfig, engine: str, java: dict, python: dict, step1_grads: dict, epochs_run: int, batches: int
) -> StageResult:
    """Final parameters after ``epochs_run`` epochs, judged against the envelope (floor: the rows' rounding
    at every step, from the step-1 gradients' magnitude); not compared where nothing is calibrated."""
    mode = _mode(engine)
    envl = env.find(port_config(cfg, engine).as_dict())
    remedy = calibration_remedy(cfg, engine)
    if envl is None:
        r = compare_stage("final.params", java, python, mode, tol=Tolerance())
        why = "differs, and no envelope is calibrated for this config to judge by how much"
        return not_compared("final.params", mode, why, remedy) if r.status == FAILED else r
    e = epochs_run - 1
    if e >= len(envl.epoch_params_abs):
        why = f"the envelope covers {len(envl.epoch_params_abs)} epoch(s); this run has {epochs_run}"
        return not_compared("final.params", mode, why, remedy)
    steps_run = epochs_run * batches
    grad_floor = rows_ulps(cfg) * _resolution(step1_grads)
    bound = max(envl.epoch_params_abs[e], grad_floor * cfg.lr * steps_run)
    judged = env.judge_arrays(java, python, bound)
    r = _judged("final.params", java, python, env.FACTOR * bound, mode)
    r.note = judged.note
    return r


def judged_points(cfg: RunConfig, engine: str, epochs: list[int], java: np.ndarray, python: np.ndarray) -> StageResult:
    """Perplexity at some epochs (a notebook animator's points) against the envelope at those epochs."""
    mode = _mode(engine)
    envl = env.find(port_config(cfg, engine).as_dict())
    remedy = calibration_remedy(cfg, engine)
    if envl is None:
        r = compare_stage("epochs.perplexity", java, python, mode, "point", Tolerance())
        why = "differs, and no envelope is calibrated for this config to judge by how much"
        return not_compared(r.stage, mode, why, remedy) if r.status == FAILED else r
    floors = [float(x) * rows_ulps(cfg) * float(np.spacing(np.float32(np.log(x)))) for x in java]
    covered = [e for e in epochs if e <= len(envl.epoch_ppl_abs)]
    bounds = [envl.epoch_ppl_abs[e - 1] for e in covered]
    r = _series("epochs.perplexity", list(java), list(python), bounds, floors, mode, "point", [], remedy)
    r.note = (r.note + "; " if r.note else "") + f"the animator's points at epochs {', '.join(map(str, epochs))}"
    return r


def engine_stages(
    cfg: RunConfig, java: Trace, python: Trace, engine: str, bands: dict[str, list[float]] | None = None
) -> list[StageResult]:
    """The run stages after ``init.transfer``, judged against the envelope calibrated for ``cfg``.

    ``bands`` receives the allowed |Δ| per step ("step_loss") and per epoch ("perplexity").
    """
    bands = {} if bands is None else bands
    mode = _mode(engine)
    envl = env.find(port_config(cfg, engine).as_dict())
    j, p = java.step1, python.step1
    assert j is not None and p is not None
    stage_pairs = [
        ("step1.logits", j.logits, p.logits),
        ("step1.state", j.state, p.state),
        ("step1.loss", j.loss, p.loss),
        ("step1.grads", j.grads, p.grads),
        ("step1.grad_norm", j.grad_norm, p.grad_norm),
        ("step1.clipped_grads", j.clipped_grads, p.clipped_grads),
        ("step1.params_after", j.params_after, p.params_after),
    ]
    remedy = calibration_remedy(cfg, engine)
    if envl is None:  # without a measured envelope only bit-identity is judged; the rest is not compared
        why = "differs, and no envelope is calibrated for this config to judge by how much"
        out = [compare_stage(stage, a, b, mode, tol=Tolerance()) for stage, a, b in stage_pairs] + [
            compare_stage("steps.loss", java.step_losses, python.step_losses, mode, "step", Tolerance()),
            compare_stage("epochs.perplexity", java.perplexities, python.perplexities, mode, "epoch", Tolerance()),
            compare_stage("final.params", java.final_params, python.final_params, mode, tol=Tolerance()),
            compare_stage(
                "predictions",
                [java.predictions[k] for k in sorted(java.predictions)],
                [python.predictions[k] for k in sorted(python.predictions)],
                mode,
            ),
        ]
        return [not_compared(r.stage, mode, why, remedy) if r.status == FAILED else r for r in out]
    out = []
    # Floors: one engine's reductions sum a step's rows in another order; the float32 error of a
    # sum of n terms grows like sqrt(n) ULP of its magnitude. Forward stages (no long sums over
    # rows) get one ULP; the loss and everything downstream of its gradient sqrt(rows) ULP per step.
    rows = rows_ulps(cfg)
    grad_floor = rows * _resolution(j.grads)
    floors = {
        "step1.logits": _resolution(j.logits),
        "step1.state": _resolution(j.state),
        "step1.loss": rows * _resolution(j.loss),
        "step1.grads": grad_floor,
        "step1.grad_norm": rows * _resolution(j.grad_norm),
        "step1.clipped_grads": grad_floor,
        "step1.params_after": grad_floor * cfg.lr,
    }
    for stage, a, b in stage_pairs:
        out.append(_judged(stage, a, b, env.FACTOR * max(envl.step1_abs[stage], floors[stage]), mode))
    loss_floors = [rows * float(np.spacing(np.float32(abs(x)))) for x in java.step_losses]
    out.append(
        _series(
            "steps.loss",
            java.step_losses,
            python.step_losses,
            envl.step_loss_abs,
            loss_floors,
            mode,
            "step",
            bands.setdefault("step_loss", []),
            remedy,
        )
    )
    ppl_floors = [x * rows * float(np.spacing(np.float32(np.log(x)))) for x in java.perplexities]
    out.append(
        _series(
            "epochs.perplexity",
            java.perplexities,
            python.perplexities,
            envl.epoch_ppl_abs,
            ppl_floors,
            mode,
            "epoch",
            bands.setdefault("perplexity", []),
            remedy,
        )
    )
    out.append(
        final_params_stage(
            cfg, engine, java.final_params, python.final_params, j.grads, len(java.perplexities), len(java.batches_x)
        )
    )
    preds = compare_stage(
        "predictions",
        [java.predictions[k] for k in sorted(java.predictions)],
        [python.predictions[k] for k in sorted(python.predictions)],
        mode,
    )
    if preds.status == FAILED and all(s.passed for s in out):
        preds.status, preds.cause = EXPLAINED, "engine-rounding"
        preds.note = "greedy argmax over logits that differ within the envelope"
    out.append(preds)
    return out


def compare_engine(
    cfg: RunConfig,
    data: Path,
    engine: str,
    init: str = "java",
    steps: int = 20,
    progress: Progress | None = None,
    epoch_progress: EpochProgress | None = None,
    timeout: float | None = None,
) -> Report:
    """Run the notebook on ``engine`` (in a worker) and on the port from one start; compare every stage."""
    from djl_bridge.jvm.djl_side import deviations_of
    from djl_bridge.parity.engine import _data_stages
    from djl_bridge.sides import worker

    say = progress or (lambda _msg: None)
    cfg = replace(cfg.resolved(), device="cpu")
    if cfg.random_iter:
        raise ConfigError("compare follows the notebook's sequential sampling; drop --random-iter")
    if engine == "mxnet" and cfg.layout_fix:
        raise ConfigError(
            "--layout-fix is for DJL's PyTorch engines; on MXNet the notebook's bi-LSTM runs as published"
        )
    if init not in ("java", "python"):
        raise ConfigError(f"--init must be java or python, got {init!r}")
    mode = _mode(engine)
    port_cfg = port_config(cfg, engine)
    probe = cfg.model == "bilstm" and not cfg.layout_fix
    python_init = None
    if init == "python":  # the port goes first, so the offset is chosen here (Java's is unseeded anyway)
        cfg = replace(cfg, offset=cfg.offset if cfg.offset is not None else random.randrange(cfg.num_steps))
        say(f"python: initialise, train {cfg.epochs} epoch(s)")
        python = python_data(cfg, data, cfg.offset)
        python_run(python, port_cfg, data, None, steps, _side(epoch_progress, "python"))
        python_init = python.init_params
    say(
        f"java ({engine} worker): text, data, {'own' if init == 'java' else 'python'} initial weights, "
        f"train {cfg.epochs} epoch(s)"
    )
    wt = worker.trace(engine, cfg, data, python_init, steps, probe, _side(epoch_progress, "java"), timeout)
    java = wt.trace
    if init == "java":
        say(f"python: same weights, train {cfg.epochs} epoch(s) (offset {java.offset}, read back from Java)")
        python = python_data(cfg, data, java.offset)
        python_run(python, port_cfg, data, java.init_params, steps, _side(epoch_progress, "python"))
    stages = []
    if probe:
        stages.append(_as_published(wt.as_published))
    stages += _data_stages(java, python, "parity")
    stages.append(_independent_init(java, python, mode))
    stages.append(compare_stage("init.transfer", java.init_params, python.init_params, "parity"))
    if engine == "mxnet" and cfg.model in FUSED_RNN_MODELS:
        stages.append(compare_stage("layout.step1_logits", java.step1.logits, djl_order_logits(cfg, java), mode))
    bands: dict[str, list[float]] = {}
    stages += engine_stages(cfg, java, python, engine, bands)
    s = wt.stats
    environment = {
        "Java side": f"worker process, DJL {s.djl}, engine {engine} {s.engine_version}",
        "native library": s.native,
        "worker start (spawn to engine ready)": f"{s.spawn_to_started_s:.2f} s (JVM {s.jvm_s:.2f} s)",
        "worker transfer": f"{(s.request_bytes + s.response_bytes) / 1e6:.1f} MB at {s.transfer_gb_s():.2f} GB/s",
        "torch imported in the worker": str(wt.torch_imported),
        "mode": cfg.mode,
        "port emulates": port_cfg.port_engine,
        "java tokens/s (last epoch)": f"{java.speeds[-1]:,.0f}",
        "python tokens/s (last epoch)": f"{python.speeds[-1]:,.0f}",
    }
    report_cfg = {**cfg.as_dict(), "offset": java.offset, "engine": engine}
    return Report(
        report_cfg,
        init,
        stages,
        environment,
        java.perplexities,
        python.perplexities,
        java.step_losses,
        python.step_losses,
        {p: {"java": java.predictions[p], "python": python.predictions[p]} for p in java.predictions},
        deviations_of(cfg),
        bands=bands,
    )


def _side(epoch_progress: EpochProgress | None, side: str):
    """One side's per-epoch callback (the sides run one after the other)."""
    if epoch_progress is None:
        return None
    return lambda epoch, ppl, speed: epoch_progress(side, epoch, ppl, speed)


def _independent_init(java: Trace, python: Trace, mode: str) -> StageResult:
    """Each side's own weights from the seed: equal, or within a registered cause's bound (MXNet's generator)."""
    r = compare_stage("init.independent", java.init_own, python.init_own, mode)
    if r.status == FAILED:  # data stages are exact; a registered cause may still account for the difference
        from djl_bridge.parity.divergences import bound_for

        found = bound_for("init.independent", mode)
        if found is not None:
            r = compare_stage(
                "init.independent",
                java.init_own,
                python.init_own,
                mode,
                tol=Tolerance(bound=found[1], cause=found[0].name),
            )
    return r


def _as_published(failure: dict | None) -> StageResult:
    if failure is None:
        return StageResult(
            "java.as_published",
            IDENTICAL,
            "runs",
            cause=None,
            note="the published bi-LSTM trains on this engine as published",
        )
    return StageResult("java.as_published", FAILED, "runs", note=f"fails: {failure['root_cause'][:300]}")
