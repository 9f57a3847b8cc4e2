"""The port's run of a recorded training loop: its config, read from what the loop did, not from its source.

- the model: from the loop's parameters (their names and shapes, in DJL's tracking order): a concise
  RNN/GRU/LSTM block (``l_0_i2h_WEIGHT`` ...), bidirectional or deep, or a scratch model (unnamed
  arrays: 5 for an RNN, 11 for a GRU, 14 for an LSTM);
- batch size and steps: from the batches it fed; epochs: from its epoch starts;
- the learning rate: the book's for that model (the port reproduces the book's training; the rate
  the notebook's update really used is measured from its first step and reported beside it);
- the corpus prefix and dataset offset that give the same batches (the offset: where the first
  window starts in the text's corpus; the prefix: the one whose ``batch_size`` streams, cut into windows,
  are the windows of the loop's first epoch).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from djl_bridge.config import MODEL_DEFAULTS, RunConfig
from djl_bridge.notebook.recorded import RecordedLoop

_SCRATCH_KINDS = {5: "rnn-scratch", 11: "gru-scratch", 14: "lstm-scratch"}
_GATES = {4: "lstm", 3: "gru", 1: "rnn"}
_RNN = re.compile(r"(?:^|_)([lr])_(\d+)_(i2h|h2h)_(WEIGHT|BIAS)$")


@dataclass(frozen=True)
class LoopConfig:
    """A loop as the port runs it: the config, the port's parameter name of each of the loop's, the offset."""

    cfg: RunConfig
    names: dict[str, str]  # loop name -> port (DJL) name
    observed_lr: float | None  # the rate the notebook's first update used, where the recording shows it


def model_of(loop: RecordedLoop) -> tuple[str, int, int] | str:
    """(port model, hidden, layers) from the loop's parameters, or why the port has no such model."""
    names, shapes = loop.names, loop.shapes
    if all(n.isdigit() for n in names):
        kind = _SCRATCH_KINDS.get(len(names))
        return (kind, int(shapes[0][1]), 1) if kind else f"a scratch model with {len(names)} parameters"
    rnn = {m.groups(): s for n, s in zip(names, shapes) if (m := _RNN.search(n))}
    if ("l", "0", "h2h", "WEIGHT") not in rnn:
        return f"a model with parameters {', '.join(names[:4])}..."
    hidden = int(rnn[("l", "0", "h2h", "WEIGHT")][1])
    gates = int(rnn[("l", "0", "i2h", "WEIGHT")][0]) // hidden
    layers = len({k[1] for k in rnn})
    bidirectional = any(k[0] == "r" for k in rnn)
    kind = _GATES.get(gates)
    if kind is None or (bidirectional and kind != "lstm"):
        return f"a {'bidirectional ' if bidirectional else ''}{kind or 'recurrent'} layer"
    if bidirectional:
        return "bilstm", hidden, layers
    return ("deep-lstm" if kind == "lstm" and layers > 1 else kind), hidden, layers


@dataclass(frozen=True)
class Untrained:
    """A loop that trains a port model's parameters but some: the notebook's model leaves them out (a bias
    never added, a weight never used), so its backward gives them no gradient."""

    model: str
    missing: list[str]  # the port's names of the parameters the loop does not train


def _subsequence(part: list[tuple[int, ...]], whole: list[tuple[int, ...]]) -> list[int] | None:
    """Where each of ``part`` sits in ``whole``, in order (the first fit), or None."""
    at, found = 0, []
    for shape in part:
        while at < len(whole) and whole[at] != shape:
            at += 1
        if at == len(whole):
            return None
        found.append(at)
        at += 1
    return found


def untrained(loop: RecordedLoop, vocab_size: int, port_names) -> Untrained | None:
    """The scratch model whose parameters, but some, are the loop's (in order, by shape), or None."""
    if not all(n.isdigit() for n in loop.names):
        return None
    shapes = [tuple(s) for s in loop.shapes]
    for count, kind in sorted(_SCRATCH_KINDS.items()):
        if count <= len(shapes):
            continue
        cfg = RunConfig(model=kind, hidden=int(shapes[0][-1]), layers=1, device="cpu").resolved()
        ported = port_names(cfg)
        at = _subsequence(shapes, [s for _, s in ported])
        if at is not None and ported[0][1] == (vocab_size, cfg.hidden):
            return Untrained(kind, [n for i, (n, _) in enumerate(ported) if i not in at])
    return None


def observed_lr(loop: RecordedLoop) -> float | None:
    """The learning rate of the loop's first update: (before - after) / clipped gradient, where it is large."""
    if not loop.full or loop.full[0].clipped_grads is None or loop.full[0].params_after is None:
        return None
    step = loop.full[0]
    ratios = []
    for name in loop.names:
        g, before, after = step.clipped_grads[name], step.params_before[name], step.params_after[name]
        big = np.abs(g) > 0.5 * np.max(np.abs(g), initial=0.0)
        if big.any():
            ratios.append(np.median((before[big].astype(np.float64) - after[big]) / g[big]))
    return float(np.median(ratios)) if ratios else None


def _offset(loop: RecordedLoop, corpus: list[int]) -> int | None:
    first, steps = loop.xs[0, 0].tolist(), loop.xs.shape[2]
    return next((o for o in range(steps) if corpus[o : o + steps] == first), None)


def _span(loop: RecordedLoop, corpus: list[int], offset: int, batches: int) -> int:
    """The length of each of the dataset's ``batch`` parallel streams: the one (of the ``num_steps`` lengths that
    give ``batches`` windows a stream) whose windows are the loop's first epoch, in any order."""
    batch, steps = int(loop.xs.shape[1]), int(loop.xs.shape[2])
    fed = sorted(map(tuple, loop.xs[:batches].reshape(-1, steps).tolist()))
    for span in range(batches * steps, (batches + 1) * steps):
        starts = (offset + r * span + w * steps for r in range(batch) for w in range(batches))
        if sorted(tuple(corpus[s : s + steps]) for s in starts) == fed:
            return span
    return batches * steps


def loop_config(loop: RecordedLoop, corpus: list[int], port_names, seed: int) -> LoopConfig | str:
    """How the port runs ``loop`` (``corpus``: the text's whole corpus; ``port_names(cfg)``: the port's DJL
    parameter names and shapes for a config), or why it cannot."""
    found = model_of(loop)
    if isinstance(found, str):
        return f"the port has no {found}"
    model, hidden, layers = found
    offset = _offset(loop, corpus)
    if offset is None:
        return "the loop's first batch is not a window of The Time Machine's character corpus"
    steps_per_epoch = loop.epoch_starts[1] if len(loop.epoch_starts) > 1 else len(loop.xs)
    batch, num_steps = int(loop.xs.shape[1]), int(loop.xs.shape[2])
    cfg = RunConfig(
        model=model,
        epochs=max(len(loop.epoch_starts), 1),
        lr=MODEL_DEFAULTS[model][2],
        hidden=hidden,
        layers=layers,
        batch_size=batch,
        num_steps=num_steps,
        max_tokens=offset + 1 + batch * _span(loop, corpus, offset, steps_per_epoch),
        offset=offset,
        seed=seed,
        device="cpu",
    ).resolved()
    ported = port_names(cfg)
    if [s for _, s in ported] != [tuple(s) for s in loop.shapes]:
        return f"the loop's parameters {loop.shapes[:3]}... do not have the port's {cfg.model} shapes"
    return LoopConfig(cfg, {n: p for n, (p, _) in zip(loop.names, ported)}, observed_lr(loop))
