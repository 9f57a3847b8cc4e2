"""The executed notebook against the PyTorch port: its configuration read from its own variables,
the port run on it from the notebook's own initial weights, every observable stage compared.

What the notebook shows, and so what is compared: its vocabulary, corpus and batches (its
``dataset``), the animator's perplexity points (every 10th epoch), the printed final perplexity
and predictions, and its model's final parameters. Initial weights: a model that has its parameters before
``trainCh8`` (a scratch model, a block the notebook initialised) has them read there; a concise
model that creates them at its first training forward draws them from the engine's generator:

the notebook runs in a worker (its generator state cannot be read from outside), which seeds the
generator again just before ``trainCh8``, then draws the weights again from that seed with our
helpers and trains them on the same engine (``notebook.executor.replay``): the replay's final
parameters identical to the notebook's (``init.replay``) prove the weights, which the port then
starts from. Across engines the numbers are judged as in ``compare --engine mxnet``: final
parameters and perplexity against the envelope measured for this call's run, printed text exact or
explained by ``engine-rounding``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from djl_bridge.config import RunConfig
from djl_bridge.notebook.call_config import call_config, named
from djl_bridge.notebook.executor import NotebookData, NotebookRun, TrainingCall
from djl_bridge.parity.compare import EXPLAINED, FAILED, NOT_COMPARED, WITHIN, StageResult, compare_stage, not_compared
from djl_bridge.parity.divergences import Bound
from djl_bridge.parity.judges import enveloped, explained_text
from djl_bridge.parity.report import Report
from djl_bridge.parity.stages import BY_NAME
from djl_bridge.parity.tolerances import Tolerance
from djl_bridge.sides.port import port_data
from djl_bridge.sides.port import run as run_port
from djl_bridge.trace import PREFIXES, Request, Trace

EpochProgress = Callable[[int, float, float], None]
INIT_CAPTURED = "captured: the model's parameters read just before trainCh8"
INIT_REPLAY = (
    "reconstructed: the engine seeded again just before trainCh8, the weights drawn again from that seed "
    "by our helpers on the same engine; proven only where init.replay is identical"
)


def _printed(call: TrainingCall) -> tuple[str | None, list[str]]:
    lines = call.printed.splitlines()
    idx = next((i for i, ln in enumerate(lines) if ln.startswith("perplexity: ")), None)
    if idx is None:
        return None, []
    return lines[idx], lines[idx + 1 : idx + 1 + len(PREFIXES)]


def _uncompared(stage: str, why: str, remedy: str = "") -> StageResult:
    return not_compared(stage, "parity", why, remedy)


def compare_call(
    call: TrainingCall,
    data: Path,
    nb: NotebookData,
    seed: int,
    engine: str,
    replayed: Trace | None,
    on_epoch: EpochProgress | None = None,
) -> tuple[list[StageResult], dict, str, dict]:
    """Stages of one training call (the port trained on the notebook's config), its config, init label, predictions.

    ``replayed``: on an engine whose generator cannot be read, our helpers' replay of the call.
    """
    from djl_bridge.trace import java_1f

    cfg = call_config(call, nb, seed)
    if isinstance(cfg, tuple):
        return [_uncompared(*cfg)], {}, "", {}
    if cfg.random_iter:
        why = "random sampling draws from an unseeded Java Random"
        remedy = "use sequential sampling (useRandomIter false)"
        return [_uncompared("training", why, remedy)], cfg.as_dict(), "", {}
    stages: list[StageResult] = []
    init, label = _initial_params(call, cfg, nb, engine, replayed)
    if init is None:
        return [distribution_check(call, cfg, data, nb, engine)], cfg.as_dict(), f"{label}; {DISTRIBUTION}", {}
    final = dict(named(call.final_params or [], list(init)))
    if replayed is not None and label == INIT_REPLAY:
        stages.append(compare_stage("init.replay", final, replayed.final, "parity", note=REPLAY_NOTE))
    request = Request(cfg.emulating(engine), str(data), init=init)
    port = run_port(request, on_epoch)
    ctx = _context(cfg, engine, port, request)
    if engine == "pytorch":
        stages.append(compare_stage("final.params", final, port.final, "parity"))
    else:
        stages.append(enveloped(BY_NAME["final.params"], final, port.final, ctx))
    stages += _perplexity_points(call, cfg, port, ctx)
    line, preds = _printed(call)
    port_line = f"perplexity: {java_1f(port.perplexities[-1])}"
    text = [
        compare_stage("final.perplexity", [line.split(",")[0] if line else ""], [port_line], "parity"),
        compare_stage("predictions", preds, [port.predictions[p] for p in PREFIXES], "parity"),
    ]
    if engine != "pytorch":
        why = "printed from numbers that differ within the envelope (1 decimal; greedy argmax)"
        text = [explained_text(r, stages, "engine-rounding", why) for r in text]
    stages += text
    predictions = {
        p: {"java": preds[i] if i < len(preds) else "", "python": port.predictions[p]} for i, p in enumerate(PREFIXES)
    }
    return stages, cfg.as_dict(), label, predictions


def _context(cfg: RunConfig, engine: str, port: Trace, request: Request):
    """Judging context: on MXNet with the envelope of this call's run (the port nudged and in fast mode)."""
    from djl_bridge.parity.judges import context

    if engine == "pytorch":
        return context("parity", cfg, port)
    from djl_bridge.parity.envelope import measure, nudged

    request = replace(request, init=port.init)
    runs = {
        "nudged": run_port(replace(request, init=nudged(port.init, cfg.seed))),
        "fast": run_port(replace(request, config=replace(request.config, mode="fast"))),
    }
    return context(f"engine:{engine}", cfg, port, measure(port, runs, 0.0))


def _perplexity_points(call: TrainingCall, cfg: RunConfig, port: Trace, ctx) -> list[StageResult]:
    """The animator's points (every 10th epoch) against the port's perplexity at the same epochs."""
    from djl_bridge.parity.judges import allowed

    epochs_seen = [(int(e), v) for m, e, v in call.points if m == "ppl" and e <= cfg.epochs]
    if not epochs_seen:
        return []
    java = np.array([v for _, v in epochs_seen], np.float32)
    python = np.array([port.perplexities[e - 1] for e, _ in epochs_seen], np.float32)
    if ctx.envelope is None:
        return [compare_stage("epochs.perplexity", java, python, "parity", "epoch")]
    bounds = allowed("epochs.perplexity", port.perplexities, ctx)
    limit = np.array([bounds[e - 1] for e, _ in epochs_seen])
    tol = Tolerance(bound=Bound(atol=limit), cause="engine-rounding")
    note = f"the animator's points at epochs {', '.join(str(e) for e, _ in epochs_seen)}"
    return [compare_stage("epochs.perplexity", java, python, ctx.mode, "point", tol, note=note)]


REPLAY_NOTE = (
    "identical proves the initial weights: the replay from the reseeded generator ends where the notebook does"
)
DISTRIBUTION = "distribution check: the notebook's perplexity against the band of port runs from several seeds"
BAND_SEEDS = (0, 1, 2)


def distribution_check(call: TrainingCall, cfg: RunConfig, data: Path, nb: NotebookData, engine: str) -> StageResult:
    """Without the notebook's initial weights: is its perplexity inside the band of port runs from BAND_SEEDS?

    Compared: the animator's points and the printed final perplexity (1 decimal), each against
    [min, max] over the seeds at the same epoch (the printed one widened by its rounding, 0.05).
    """
    runs = []
    for seed in BAND_SEEDS:
        runs.append(run_port(Request(replace(cfg, seed=seed).emulating(engine), str(data), full_steps=0)).perplexities)
    # (epoch, value, how the notebook rounded it): the animator gets float32, the printed line 1 decimal
    points = call.points
    observed = [(int(e), float(v), "float32") for m, e, v in points if m == "ppl" and e <= cfg.epochs]
    line, _ = _printed(call)
    if line:
        observed.append((cfg.epochs, float(line.split(",")[0].split()[-1]), "1 decimal"))

    def band(epoch: int, rounding: str) -> tuple[float, float]:
        lo, hi = min(r[epoch - 1] for r in runs), max(r[epoch - 1] for r in runs)
        if rounding == "float32":
            return float(np.float32(lo)), float(np.float32(hi))
        return lo - 0.05, hi + 0.05

    outside = [
        f"epoch {e}: {v:.7g} outside [{band(e, how)[0]:.7g}, {band(e, how)[1]:.7g}] ({how})"
        for e, v, how in observed
        if not band(e, how)[0] <= v <= band(e, how)[1]
    ]
    status = NOT_COMPARED if not observed else (FAILED if outside else WITHIN)
    return StageResult(
        "distribution.perplexity",
        status,
        f"band of {len(BAND_SEEDS)} port seeds",
        count=len(observed),
        mismatched=len(outside),
        note="; ".join(outside) or f"{DISTRIBUTION} (not a bit-level comparison)",
    )


def _initial_params(
    call: TrainingCall, cfg: RunConfig, nb: NotebookData, engine: str, replayed: Trace | None
) -> tuple[dict | None, str]:
    from djl_bridge.models import build_model
    from djl_bridge.params import to_djl

    net = build_model(cfg.model, len(nb.vocab), cfg.hidden, cfg.layers)
    if call.initial_params is not None:
        return dict(named(call.initial_params, list(to_djl(net)))), INIT_CAPTURED
    if replayed is not None:
        return dict(replayed.init), INIT_REPLAY
    return None, "no initial weights: neither captured nor reconstructable"


def behaviour_stages(run: NotebookRun, call: TrainingCall, engine: str) -> list[StageResult]:
    """A call whose trained model shows a registered behaviour of its engine that the port does not follow:
    the behaviour as a stage (its symptom read from the model, its cause line), the training not compared."""
    from djl_bridge.notebook.failures import locate
    from djl_bridge.parity.divergences import by_name

    stages = []
    for name in call.symptoms:
        found = locate(run.plan, name)
        note = by_name(name).symptom() + (f"; {found.describe()}" if found else "")
        stages.append(StageResult("model.behaviour", EXPLAINED, "as the book describes", cause=name, note=note))
        remedy = f"--patch {found.patch}" if found else ""
        why = f"the notebook's model computes something else than the book's (and the port's): {name}"
        trained = ("final.params", "final.perplexity", "predictions")
        stages += [not_compared(s, f"engine:{engine}", why, remedy, name) for s in trained]
    return stages


def data_stages(nb: NotebookData, data: Path, cfg_like: RunConfig) -> list[StageResult]:
    port = port_data(cfg_like, data, nb.offset)
    return [
        compare_stage("vocab", nb.vocab, port.vocab, "parity"),
        compare_stage("corpus", nb.corpus, port.corpus, "parity"),
        compare_stage("batches.x", nb.batches_x, port.batches_x, "parity"),
        compare_stage("batches.y", nb.batches_y, port.batches_y, "parity"),
    ]


def failure_stage(run: NotebookRun) -> StageResult:
    """The notebook's failure as a stage: explained when its signature names a known failure."""
    f = run.failure
    assert f is not None
    return StageResult(
        "notebook.run", EXPLAINED if f.known else FAILED, "runs as published", cause=f.known, note=f.one_line()[:500]
    )


def compare_run(
    run: NotebookRun,
    data: Path,
    seed: int,
    environment: dict,
    deviations: list[str],
    engine: str = "pytorch",
    replays: dict[int, Trace] | None = None,
    on_epoch: EpochProgress | None = None,
) -> Report:
    """The report of one executed notebook (observed: ``notebook.executor.observe``) against the port.

    ``replays``: our helpers' replay of the i-th compared call, where the engine's generator cannot be read.
    """
    heading = {"model": run.plan.notebook.name, "epochs": "MAX_EPOCH", "mode": "parity", "engine": engine}
    if run.failure is not None:
        stage = failure_stage(run)
        remedy = f"--patch {run.failure.patch}" if run.failure.patch else ""
        rest = [
            not_compared(s, "parity", "the notebook does not run to the end on this engine", remedy, stage.cause)
            for s in ("vocab", "corpus", "batches.x", "batches.y", "final.params", "final.perplexity", "predictions")
        ]
        return Report(heading, "java", [stage, *rest], environment, deviations=deviations)
    calls = run.compared_calls()
    if not calls or run.data is None:
        why = "the notebook makes no trainCh8(...) call with the book's 8 arguments"
        return Report(heading, "java", [_uncompared("training", why)], environment, deviations=deviations)
    stages: list[StageResult] = []
    nb = run.data
    config: dict = {}
    inits, predictions = [], {}
    for i, call in enumerate(calls):
        replayed = (replays or {}).get(i)
        if call.symptoms:
            found = call_config(call, nb, seed)
            cfg = found.as_dict() if isinstance(found, RunConfig) else {}
            call_stages, label, preds = behaviour_stages(run, call, engine), "", {}
        else:
            call_stages, cfg, label, preds = compare_call(call, data, nb, seed, engine, replayed, on_epoch)
        if not stages and cfg:
            stages += data_stages(nb, data, RunConfig(**cfg))
        if len(calls) > 1:
            call_stages = [replace(s, stage=f"{call.args[0]}: {s.stage}") for s in call_stages]
        stages += call_stages
        config = config or cfg
        inits.append(f"{call.args[0]}: {label}" if len(calls) > 1 else label)
        predictions.update({(f"{call.args[0]}: {p}" if len(calls) > 1 else p): v for p, v in preds.items()})
    points = sum(m == "ppl" for m, _, _ in run.points)
    config = {
        **heading,
        **config,
        "offset": nb.offset,
        "initial weights": "; ".join(inits),
        "animator points": points or "none (the notebook's animator gets every 10th epoch's perplexity)",
    }
    return Report(config, "java", stages, environment, predictions=predictions, deviations=deviations)
