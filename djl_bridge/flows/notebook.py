"""`djl-parity notebook`: the notebook run unchanged on its engine, each of its own training loops replayed on
the port and judged through the one stage table.

The notebook side (a worker) records every loop the notebook runs by observing DJL
(``notebook/recorded.py``). Each loop becomes a trace of the notebook side; the port trains on
exactly the batches the loop fed, with its carried-or-fresh state per step, from the loop's own
initial weights (and the gradients it started with), and records the same stages. Across engines
each loop is judged against the envelope of its own run (the port again from nudged weights, and
in fast mode with every batch's rows reversed). Nothing here runs Java or matches the notebook's
source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from djl_bridge.config import RunConfig
from djl_bridge.flows.compare import port_and_envelope
from djl_bridge.notebook.loop_config import LoopConfig, loop_config, untrained
from djl_bridge.notebook.recorded import RecordedLoop
from djl_bridge.notebook.result import NotebookResult
from djl_bridge.parity.compare import EXPLAINED, FAILED, WITHIN, StageResult, compare_stage, not_compared
from djl_bridge.parity.divergences import Bound, by_name
from djl_bridge.parity.judges import allowed, context
from djl_bridge.parity.stages import stages
from djl_bridge.parity.tolerances import Tolerance
from djl_bridge.parity.verdicts import judge_pair, mode_of
from djl_bridge.trace import PREFIXES, Data, Feed, Request, Step, Trace

Say = Callable[[str], None]
#: What the recorder cannot see of a loop (a model's recurrent state passes through the notebook's own code;
#: a side's own initial draw is the notebook's business): left out of a loop's stages, and said so.
UNRECORDED = ("step1.state", "init.independent")
LOOP_STAGES = tuple(s for s in stages("init", "step1", "steps", "end") if s.name not in UNRECORDED)


@dataclass(frozen=True)
class Judged:
    """One loop, judged: its stages, its config (as the port ran it), what it predicted, its two curves."""

    stages: list[StageResult]
    config: dict
    predictions: dict[str, dict[str, str]]
    series: dict[str, dict[str, list[float]]]
    envelope: str = ""  # how the loop's envelope was had: measured (in how long) or reused from the cache
    sensitive_from: int | None = None  # the step from which the port's own last-bit drift passes 1 % of the loss


def _port_names(vocab_size: int) -> Callable[[RunConfig], list[tuple[str, tuple[int, ...]]]]:
    from djl_bridge.models import build_model
    from djl_bridge.params import djl_parameters

    def names(cfg: RunConfig) -> list[tuple[str, tuple[int, ...]]]:
        net = build_model(cfg.model, vocab_size, cfg.hidden, cfg.layers)
        return [(n, tuple(p.shape)) for n, p in djl_parameters(net)]

    return names


def _printed(text: str) -> tuple[list[str], dict[str, str]]:
    """trainCh8's final lines in what a snippet printed: the perplexity line and the two predictions."""
    lines = text.splitlines()
    i = next((i for i, ln in reversed(list(enumerate(lines))) if ln.startswith("perplexity: ")), None)
    if i is None:
        return [], {}
    preds = lines[i + 1 : i + 1 + len(PREFIXES)]
    return lines[i : i + 1 + len(preds)], dict(zip(PREFIXES, preds))


def notebook_trace(loop: RecordedLoop, lc: LoopConfig, printed: str, engine: str) -> Trace:
    """A recorded loop as the notebook side's trace, its parameters under the port's names."""

    def named(arrays):
        return {lc.names[n]: a for n, a in arrays.items()} if arrays else {}

    steps = [
        Step(
            s.logits, {}, s.loss, named(s.grads), np.float64(s.grad_norm), named(s.clipped_grads), named(s.params_after)
        )  # fmt: skip
        for s in loop.full
        if s.logits is not None and s.clipped_grads and s.params_after
    ]
    first = loop.epoch_starts[1] if len(loop.epoch_starts) > 1 else len(loop.xs)
    data = Data([], [], [], [], lc.cfg.offset, loop.xs[:first], loop.ys[:first])
    lines, predictions = _printed(printed)
    return Trace(
        f"notebook:{engine}",
        {},
        data,
        init=named(loop.initial),
        steps=steps,
        losses=[float(x) for x in loop.losses],
        grad_norms=[float(x) for x in loop.grad_norms],
        grad_sq=[[float(x) for x in row] for row in loop.grad_sq],
        final=named(loop.final),
        predictions=predictions,
        printed=lines,
    )


def _batches(nb: Trace, port: Trace) -> list[StageResult]:
    """The loop's first epoch of batches against the port's dataset: in order (sequential sampling), or as
    the same windows in another order (random sampling, replayed from the notebook's own choices)."""
    out = []
    for stage, a, b in (
        ("batches.x", nb.data.batches_x, port.data.batches_x),
        ("batches.y", nb.data.batches_y, port.data.batches_y),
    ):
        r = compare_stage(stage, a, b, "parity", tol=Tolerance(exact=True))
        if r.status == FAILED and a.shape == b.shape and _rows(a) == _rows(b):
            note = "the same windows in the notebook's own (random) order, which the port replays"
            r = replace(r, status=WITHIN, tolerance="the same windows, any order", first_bad=None, note=note)
        out.append(r)
    return out


def _rows(x: np.ndarray) -> list[tuple]:
    return sorted(map(tuple, x.reshape(-1, x.shape[-1]).tolist()))


def _animator(result: NotebookResult, loop: RecordedLoop, port: Trace, ctx) -> list[StageResult]:
    """The perplexity the notebook's animator showed for this loop's cell (every 10th epoch, as the book draws
    it) against the port's at the same epochs: identical on one engine, within the envelope across engines."""
    seen = [(int(e), v) for m, e, v in result.points if m == "ppl" and 0 < e <= len(port.perplexities)]
    if not seen or not any(f.cell == loop.cell for f in result.figures):
        return []
    java = np.array([v for _, v in seen], np.float32)
    python = np.array([port.perplexities[e - 1] for e, _ in seen], np.float32)
    note = f"the animator's points at epochs {', '.join(str(e) for e, _ in seen)}"
    if ctx.envelope is None:
        return [compare_stage("epochs.perplexity", java, python, ctx.mode, "point", note=note)]
    limit = allowed("epochs.perplexity", port.perplexities, ctx)
    if limit is None:
        return [not_compared("epochs.perplexity", ctx.mode, "beyond the envelope's epochs", "")]
    tol = Tolerance(bound=Bound(atol=np.array([limit[e - 1] for e, _ in seen])), cause="engine-rounding")
    return [compare_stage("epochs.perplexity", java, python, ctx.mode, "point", tol, note=note)]


def _behaviour(names: list[str], plan, engine: str) -> list[StageResult]:
    """A registered behaviour read from the notebook's blocks: explained, its cause line and patch named; the
    loops of the model it changes are then not compared."""
    from djl_bridge.notebook.failures import locate

    out = []
    for name in names:
        found = locate(plan, name)
        note = by_name(name).symptom() + (f"; {found.describe()}" if found else "")
        out.append(StageResult("model.behaviour", EXPLAINED, "as the book describes", cause=name, note=note))
    return out


def judge_loop(
    loop: RecordedLoop, result: NotebookResult, data: Path, seed: int, engine: str, corpus, vocab_size: int, say: Say
) -> Judged:
    """One loop against the port's replay of it: the stage table (and its batches, its animator's points)."""
    lc = loop_config(loop, corpus, _port_names(vocab_size), seed)
    mode = mode_of(RunConfig(), engine)
    if isinstance(lc, str):
        return Judged([_unported(loop, lc, vocab_size, mode)], {}, {}, {})
    cfg = lc.cfg
    init_grads = (
        {lc.names[n]: g for n, g in loop.start_grads.items()} if len(loop.start_grads) == len(lc.names) else None
    )
    request = Request(cfg.emulating(engine), str(data), {lc.names[n]: a for n, a in loop.initial.items()},
                      full_steps=len(loop.full), init_grads=init_grads,
                      feed=Feed(loop.xs, loop.ys, loop.carried, loop.epoch_starts))  # fmt: skip
    say(f"python: cell {loop.cell}'s loop ({cfg.model}, {len(loop.xs)} steps) on the notebook's batches and weights")
    port, envelope, reused = port_and_envelope(engine, request, say)
    nb = notebook_trace(loop, lc, result.printed_by(loop), engine)
    ctx = context(mode, cfg, nb, envelope)
    table = [s for s in LOOP_STAGES if s.name not in ("printed.perplexity", "predictions") or nb.printed]
    results = _batches(nb, port) + judge_pair(tuple(table), nb, port, cfg, mode, envelope, ("notebook", "port"))
    results += _animator(result, loop, port, ctx)
    config = {**cfg.as_dict(), "engine": engine, "epochs from": loop.epochs_from, "notebook's lr": lc.observed_lr}
    predictions = {p: {"java": nb.predictions.get(p, ""), "python": v} for p, v in port.predictions.items()}
    series = {
        "step_loss": {"java": nb.losses, "python": port.losses},
        "perplexity": {"java": [], "python": port.perplexities},
    }
    how = "" if envelope is None else f"{'reused from the cache, measured in' if reused else 'measured in'} "
    how += "" if envelope is None else f"{envelope.seconds:.1f} s (the port {len(envelope.runs)} more times)"
    return Judged(results, config, predictions, series, how, envelope.sensitivity(port) if envelope else None)


def _unported(loop: RecordedLoop, why: str, vocab_size: int, mode: str) -> StageResult:
    """A loop the port cannot run: FAILED when it is a port model with parameters left out (the notebook
    computes something else), not compared when the port has no such model."""
    found = untrained(loop, vocab_size, _port_names(vocab_size))
    if found is None:
        return not_compared("model", mode, why, "")
    note = (
        f"the notebook's loop trains the parameters of the port's {found.model} but {', '.join(found.missing)}: "
        "its model leaves them out (no gradient reaches them)"
    )
    return StageResult("init.transfer", FAILED, "exact", first_bad=f"{found.missing[0]}: not trained", note=note)


def judge_notebook(
    result: NotebookResult, plan, data: Path, seed: int, engine: str, say: Say
) -> tuple[list[StageResult], list[Judged], list[str]]:
    """Every stage of the notebook: its behaviours, its failure (if any), its text-pipeline values, and each
    recorded loop's stages (named "loop N (cell C): STAGE" when there are several); the loops as judged; and
    what the notebook computed that is not compared."""
    from djl_bridge.flows.notebook_data import judge_values

    mode = mode_of(RunConfig(), engine)
    out = _behaviour(result.behaviours, plan, engine)
    failed = result.failure
    if failed is not None:  # what ran after the failure is not there to compare: never a PASS
        out.append(_failure_stage(failed))
        remedy = f"--patch {failed.patch}" if failed.patch else ""
        why = "the notebook does not run to the end on this engine"
        out.append(not_compared("notebook.rest", mode, why, remedy, failed.known))
    values, skipped = judge_values(result.values, data, mode)
    out += values
    if result.recorder_problem:
        out.append(not_compared("training", mode, result.recorder_problem, ""))
    if not result.loops and not values and failed is None and not result.recorder_problem:
        why = "the notebook computes nothing the port has: no training loop the recorder saw, no text-pipeline value"
        return out + [not_compared("notebook", mode, why, "")], [], skipped
    judged = []
    for i, loop in enumerate(result.loops, 1):
        found = _loop_stages(i, loop, result, plan, data, seed, engine, say)
        if isinstance(found, StageResult):
            out.append(found)
            continue
        judged.append(found)
        prefix = f"loop {i} (cell {loop.cell}): " if len(result.loops) > 1 else ""
        out += [replace(r, stage=prefix + r.stage) for r in found.stages]
    return out, judged, skipped


def _loop_stages(i: int, loop: RecordedLoop, result: NotebookResult, plan, data: Path, seed: int, engine: str, say):
    """One loop judged, or the one stage saying why it is not (the failure broke it off; a registered
    behaviour changes its model)."""
    from djl_bridge.text import load_corpus_time_machine

    mode, failed, behaving = mode_of(RunConfig(), engine), result.failure, set(result.behaviours)
    if failed is not None and loop.cell == failed.cell:
        return not_compared(f"loop {i}", mode, "the failure broke the loop off (notebook.rest says why)", "")
    if behaving and _changed_by(loop, behaving):
        why = f"the notebook's model computes something else than the book's: {', '.join(sorted(behaving))}"
        remedy = " ".join(f"--patch {p}" for p in _patches(behaving, plan))
        return not_compared(f"loop {i}", mode, why, remedy, sorted(behaving)[0])
    corpus, vocab = load_corpus_time_machine(data)
    return judge_loop(loop, result, data, seed, engine, list(corpus), len(vocab), say)


def notebook_report(prepared, result: NotebookResult, data: Path, seed: int, environment: dict, say: Say):
    """The report of a notebook run against the port: every loop judged, built once."""
    from djl_bridge.notebook.figures import figures_html
    from djl_bridge.parity.report import Report

    stages_, judged, skipped = judge_notebook(result, prepared.plan, data, seed, prepared.engine, say)
    first = judged[0] if judged else Judged([], {}, {}, {})
    sensitive = [j.sensitive_from for j in judged if j.sensitive_from is not None]
    walls = {f"loop {i}: envelope of this run": j.envelope for i, j in enumerate(judged, 1) if j.envelope}
    config = {
        "model": prepared.plan.notebook.name,
        "engine": prepared.engine,
        "epochs": "MAX_EPOCH",
        "loops recorded": len(result.loops),
        **({f"loop {i}": j.config for i, j in enumerate(judged, 1)}),
    }
    start = (
        "Each training loop the notebook ran was recorded in DJL (its batches, its initial weights, every step); the "
        "port trained on exactly those batches from exactly those weights (init.transfer), step by step."
    )
    return Report(
        f"{prepared.plan.notebook.name} on {prepared.engine}",
        config,
        start,
        tuple(stages_),
        {**environment, **walls},
        first.series,
        predictions=first.predictions,
        deviations=tuple(prepared.notes + prepared.diffs),
        figures_html=figures_html(result.figures) if result.figures else "",
        sensitive_from=min(sensitive, default=None),
        not_compared=tuple(skipped) + (_UNCOMPARED_OUTPUT,),
    )


#: Said of every notebook: its cells' printed output is kept (notebook.json), compared only where it is trainCh8's.
_UNCOMPARED_OUTPUT = (
    "what the cells print: kept in notebook.json, compared only where a loop printed trainCh8's final lines "
    "(printed.perplexity, predictions)"
)


def _changed_by(loop: RecordedLoop, behaviours: set[str]) -> bool:
    """Whether a registered behaviour changes this loop's model (the one registered is the concise RNN's)."""
    from djl_bridge.notebook.loop_config import model_of

    found = model_of(loop)
    return not isinstance(found, str) and found[0] == "rnn"


def _patches(names: set[str], plan) -> list[str]:
    from djl_bridge.notebook.failures import locate

    return sorted({found.patch for n in names if (found := locate(plan, n))})


def _failure_stage(f) -> StageResult:
    """The notebook's failure as a stage: explained when its signature names a known failure (its patch named)."""
    remedy = f"--patch {f.patch}" if f.patch else ""
    status = EXPLAINED if f.known else FAILED
    return StageResult(
        "notebook.run", status, "runs as published", cause=f.known, note=f.one_line()[:500], remedy=remedy
    )
