"""The executed notebook against the PyTorch port: its configuration read from its own variables,
the port run on it from the notebook's own initial weights, every observable stage compared.

What the notebook shows, and so what is compared: its vocabulary, corpus and batches (its
``dataset``), the animator's perplexity points (every 10th epoch), the printed final perplexity
and predictions, and its model's final parameters. Initial weights: a model that has its parameters before
``trainCh8`` (a scratch model, a block the notebook initialised) has them read there; a concise
model that creates them at its first training forward draws them from the engine's generator,
whose state is captured just before ``trainCh8`` and handed to the port (one libtorch in this
process), and identical final parameters are the proof.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from djl_bridge.config import RunConfig
from djl_bridge.jvm import java_call, jclass, to_numpy
from djl_bridge.parity.compare import EXPLAINED, FAILED, NOT_COMPARED, WITHIN, StageResult, compare_stage, not_compared
from djl_bridge.parity.report import Report
from djl_bridge.sides.notebook import SHELL, NotebookRun, TrainingCall
from djl_bridge.trace import PREFIXES, python_data, python_run

EpochProgress = Callable[[int, float, float], None]
INIT_CAPTURED = "captured: the model's parameters read just before trainCh8"
INIT_GENERATOR = (
    "reconstructed: the engine generator's state captured just before trainCh8 and drawn by the port "
    "in DJL's parameter order; proven only where final.params is identical"
)


def capture_generator(call: TrainingCall, run: NotebookRun) -> None:
    """Before-training hook: the shared libtorch's default generator state (it draws a concise model's weights)."""
    import torch

    call.captured["generator_state"] = torch.get_rng_state()


@dataclass
class NotebookData:
    vocab: list[str]
    corpus: list[int]
    batches_x: np.ndarray
    batches_y: np.ndarray
    max_tokens: int
    offset: int | None


def _field(obj: Any, name: str) -> Any:
    return jclass(SHELL).field(obj, name)


def notebook_data(run: NotebookRun, call: TrainingCall) -> NotebookData:
    """Vocabulary, corpus and batches of the dataset the training call used, read from the notebook."""
    dataset, vocab = run.value(call.args[1]), run.value(call.args[2])
    with java_call():
        tokens = _field(vocab, "idxToToken")
        max_tokens = int(_field(dataset, "maxTokens"))
        corpus = _field(dataset, "corpus")
        if corpus is None:  # the book's dataset keeps no corpus: ask its own helper for it
            corpus = run.shell.evaluate(f"TimeMachine.loadCorpusTimeMachine({max_tokens}).getKey()")
        manager = jclass("ai.djl.ndarray.NDManager").newBaseManager()
        xs, ys = [], []
        try:
            for batch in dataset.getData(manager):
                xs.append(to_numpy(batch.getData().head()))
                ys.append(to_numpy(batch.getLabels().head()))
                batch.close()
        finally:
            manager.close()
        data = NotebookData(
            [str(t) for t in tokens], [int(i) for i in corpus], np.stack(xs), np.stack(ys), max_tokens, None
        )
    steps = data.batches_x.shape[2]
    first = data.batches_x[0, 0].tolist()
    data.offset = next((o for o in range(steps) if data.corpus[o : o + steps] == first), None)
    return data


_SCRATCH_KINDS = {5: "rnn-scratch", 11: "gru-scratch", 14: "lstm-scratch"}
_GATES = {4: "lstm", 3: "gru", 1: "rnn"}


def model_config(params: list[tuple[str, np.ndarray]]) -> tuple[str, int, int] | str:
    """(port model name, hidden, layers) from a model's parameters, or why the port has no such model."""
    names = [n for n, _ in params]
    if all(n.isdigit() for n in names):
        kind = _SCRATCH_KINDS.get(len(params))
        return (kind, int(params[0][1].shape[1]), 1) if kind else f"a scratch model with {len(params)} parameters"
    shapes = dict(params)
    h2h = next((a for n, a in params if n.endswith("_l_0_h2h_WEIGHT")), None)
    i2h = next((a for n, a in params if n.endswith("_l_0_i2h_WEIGHT")), None)
    if h2h is None or i2h is None:
        return f"a model with parameters {', '.join(names[:4])}..."
    hidden = int(h2h.shape[1])
    kind = _GATES.get(int(i2h.shape[0]) // hidden)
    layers = sum(n.endswith("_i2h_WEIGHT") and "_l_" in n for n in shapes)
    bidirectional = any("_r_0_" in n for n in names)
    if kind is None or (bidirectional and kind != "lstm"):
        return f"a {'bidirectional ' if bidirectional else ''}{kind or 'recurrent'} layer"
    return ("bilstm" if bidirectional else kind), hidden, layers


def _printed(call: TrainingCall) -> tuple[str | None, list[str]]:
    lines = call.printed.splitlines()
    idx = next((i for i, ln in enumerate(lines) if ln.startswith("perplexity: ")), None)
    if idx is None:
        return None, []
    return lines[idx], lines[idx + 1 : idx + 1 + len(PREFIXES)]


def _uncompared(stage: str, why: str, remedy: str = "") -> StageResult:
    return not_compared(stage, "parity", why, remedy)


def compare_call(
    run: NotebookRun, call: TrainingCall, data: Path, nb: NotebookData, seed: int, on_epoch: EpochProgress | None = None
) -> tuple[list[StageResult], dict, str, dict]:
    """Stages of one training call (the port trained on the notebook's config), its config, init label, predictions."""
    from djl_bridge.training import java_1f

    stages: list[StageResult] = []
    if call.final_params is None:
        return [_uncompared("final.params", f"the model {call.args[:1]} has no readable parameters")], {}, "", {}
    found = model_config(call.final_params)
    if isinstance(found, str):
        return [_uncompared("model", f"the port has no {found}")], {}, "", {}
    model, hidden, layers = found
    lr, epochs, random_iter = (run.value(a) for a in (call.args[3], call.args[4], call.args[6]))
    cfg = RunConfig(
        model=model,
        epochs=int(epochs),
        lr=int(lr),
        hidden=hidden,
        layers=layers,
        batch_size=int(nb.batches_x.shape[1]),
        num_steps=int(nb.batches_x.shape[2]),
        max_tokens=nb.max_tokens,
        offset=nb.offset,
        seed=seed,
        device="cpu",
        random_iter=bool(random_iter),
    ).resolved()
    if cfg.random_iter:
        return (
            [
                _uncompared(
                    "training",
                    "random sampling draws from an unseeded Java Random",
                    "use sequential sampling (useRandomIter false)",
                )
            ],
            cfg.as_dict(),
            "",
            {},
        )
    init, label = _initial_params(run, call, cfg, nb)
    if init is None:
        return [distribution_check(run, call, cfg, data, nb)], cfg.as_dict(), f"{label}; {DISTRIBUTION}", {}
    port = python_data(cfg, data, nb.offset)
    python_run(port, cfg, data, init, 1, on_epoch)
    final = {n: a for n, a in _named(call.final_params, port.final_params)}
    stages.append(compare_stage("final.params", final, port.final_params, "parity"))
    if label == INIT_GENERATOR and stages[-1].status != "identical":
        stages[-1].note = "initial weights unproven: the reconstruction from the generator state is not confirmed"
    epochs_seen = [(int(e), v) for m, e, v in run.points if m == "ppl" and e <= cfg.epochs]
    if epochs_seen:
        stages.append(
            compare_stage(
                "epochs.perplexity",
                np.array([v for _, v in epochs_seen], np.float32),
                np.array([port.perplexities[e - 1] for e, _ in epochs_seen], np.float32),
                "parity",
                "epoch",
            )
        )
    line, preds = _printed(call)
    port_line = f"perplexity: {java_1f(port.perplexities[-1])}"
    stages.append(compare_stage("final.perplexity", [line.split(",")[0] if line else ""], [port_line], "parity"))
    stages.append(compare_stage("predictions", preds, [port.predictions[p] for p in PREFIXES], "parity"))
    predictions = {
        p: {"java": preds[i] if i < len(preds) else "", "python": port.predictions[p]} for i, p in enumerate(PREFIXES)
    }
    return stages, cfg.as_dict(), label, predictions


DISTRIBUTION = "distribution check: the notebook's perplexity against the band of port runs from several seeds"
BAND_SEEDS = (0, 1, 2)


def distribution_check(
    run: NotebookRun, call: TrainingCall, cfg: RunConfig, data: Path, nb: NotebookData
) -> StageResult:
    """Without the notebook's initial weights: is its perplexity inside the band of port runs from BAND_SEEDS?

    Compared: the animator's points and the printed final perplexity (1 decimal), each against
    [min, max] over the seeds at the same epoch (the printed one widened by its rounding, 0.05).
    """
    from dataclasses import replace

    runs = []
    for seed in BAND_SEEDS:
        port = python_data(cfg, data, nb.offset)
        runs.append(python_run(port, replace(cfg, seed=seed), data, None, 0).perplexities)
    # (epoch, value, how the notebook rounded it): the animator gets float32, the printed line 1 decimal
    observed = [(int(e), float(v), "float32") for m, e, v in run.points if m == "ppl" and e <= cfg.epochs]
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


def _named(params: list[tuple[str, np.ndarray]], port: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray]]:
    """Scratch parameters come by position; give them the port's names (the notebook's order)."""
    if params and all(n.isdigit() for n, _ in params):
        return list(zip(port.keys(), (a for _, a in params)))
    return params


def _initial_params(run: NotebookRun, call: TrainingCall, cfg: RunConfig, nb: NotebookData) -> tuple[dict | None, str]:
    import torch

    from djl_bridge.models import build_model
    from djl_bridge.params import init_djl_, to_djl

    net = build_model(cfg.model, len(nb.vocab), cfg.hidden, cfg.layers)
    if call.initial_params is not None:
        return dict(_named(call.initial_params, to_djl(net))), INIT_CAPTURED
    state = call.captured.get("generator_state")
    if state is None:
        return None, "no initial weights: neither captured nor reconstructable"
    gen = torch.Generator()
    gen.set_state(state)
    init_djl_(net, gen)
    return to_djl(net), INIT_GENERATOR


def data_stages(nb: NotebookData, data: Path, cfg_like: RunConfig) -> list[StageResult]:
    port = python_data(cfg_like, data, nb.offset)
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
    on_epoch: EpochProgress | None = None,
) -> Report:
    """The report of one executed notebook against the port."""
    heading = {"model": run.plan.notebook.name, "epochs": "MAX_EPOCH", "mode": "parity"}
    if run.failure is not None:
        stage = failure_stage(run)
        remedy = f"--patch {run.failure.patch}" if run.failure.patch else ""
        rest = [
            not_compared(s, "parity", "the notebook does not run to the end on this engine", remedy, stage.cause)
            for s in ("vocab", "corpus", "batches.x", "batches.y", "final.params", "final.perplexity", "predictions")
        ]
        return Report(heading, "java", [stage, *rest], environment, deviations=deviations)
    calls = [c for c in run.training if len(c.args) >= 8]
    if not calls:
        why = "the notebook makes no trainCh8(...) call with the book's 8 arguments"
        return Report(heading, "java", [_uncompared("training", why)], environment, deviations=deviations)
    stages: list[StageResult] = []
    nb = notebook_data(run, calls[0])
    config: dict = {}
    inits, predictions = [], {}
    for call in calls:
        call_stages, cfg, label, preds = compare_call(run, call, data, nb, seed, on_epoch)
        if not stages and cfg:
            stages += data_stages(nb, data, RunConfig(**cfg))
        if len(calls) > 1:
            for s in call_stages:
                s.stage = f"{call.args[0]}: {s.stage}"
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
