"""A trace: every intermediate value of one side's run, in DJL names and layouts, as numpy.

Both sides fill the same structure (the Python port here, the Java side in ``jvm.djl_side``); the
parity layer only reads traces. Parameters and gradients are keyed by DJL's parameter names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from djl_bridge.config import RunConfig

Arrays = dict[str, np.ndarray]
PREFIXES = ("time traveller", "traveller")
NUM_PREDS = 50


@dataclass
class StepTrace:
    """The first training step in full."""

    logits: np.ndarray
    state: Arrays
    loss: np.ndarray
    grads: Arrays
    grad_norm: np.ndarray
    clipped_grads: Arrays
    params_after: Arrays


@dataclass
class Trace:
    """One side's run, stage by stage."""

    lines: list[str]
    tokens: list[str]
    vocab: list[str]
    corpus: list[int]
    offset: int
    batches_x: np.ndarray
    batches_y: np.ndarray
    #: the weights this side drew from the seed by its own code
    init_own: Arrays = field(default_factory=dict)
    #: the weights training started from (``init_own``, or the other side's, copied exactly)
    init_params: Arrays = field(default_factory=dict)
    step1: StepTrace | None = None
    step_losses: list[float] = field(default_factory=list)
    perplexities: list[float] = field(default_factory=list)
    speeds: list[float] = field(default_factory=list)
    final_params: Arrays = field(default_factory=dict)
    predictions: dict[str, str] = field(default_factory=dict)


def joined_tokens(tokens: list[list[str]]) -> list[str]:
    """One string per line, its tokens separated by U+241F, so token lists compare as strings."""
    return ["\u241f".join(map(str, line)) for line in tokens]


def state_arrays(state: list) -> Arrays:
    """The recurrent state as named arrays: H (and C for LSTMs)."""
    return {name: np.asarray(s) for name, s in zip(("H", "C"), state)}


def python_data(cfg: RunConfig, data: Path, offset: int) -> Trace:
    """The text and data stages of the PyTorch port, with the dataset offset given."""
    import torch

    from djl_bridge.dataset import TimeMachineDataset
    from djl_bridge.text import load_corpus_time_machine, read_time_machine, tokenize

    lines = read_time_machine(data)
    corpus, vocab = load_corpus_time_machine(data, cfg.max_tokens)
    dataset = TimeMachineDataset(corpus, cfg.batch_size, cfg.num_steps, offset=offset)
    xs, ys = zip(*dataset.batches(torch.device("cpu")))
    return Trace(
        list(map(str, lines)),
        joined_tokens(tokenize(lines, "char")),
        list(map(str, vocab.idx_to_token)),
        list(corpus),
        dataset.offset,
        torch.stack(xs).numpy(),
        torch.stack(ys).numpy(),
    )


def python_run(
    trace: Trace,
    cfg: RunConfig,
    data: Path,
    init_params: Arrays | None,
    steps: int,
    on_epoch: Callable[[int, float, float], None] | None = None,
    on_init: Callable[[], None] | None = None,
) -> Trace:
    """Initialise the port from the seed, then train from ``init_params`` when given; record every stage.
    ``on_init()`` hears when ``trace.init_params`` is set, before training."""
    from djl_bridge.dataset import TimeMachineDataset
    from djl_bridge.device import resolve_device
    from djl_bridge.params import from_djl, seeded_model, to_djl
    from djl_bridge.text import load_corpus_time_machine
    from djl_bridge.training import StepRecord, predict_ch8, train_epoch_ch8

    device = resolve_device(cfg.device)
    corpus, vocab = load_corpus_time_machine(data, cfg.max_tokens)
    dataset = TimeMachineDataset(corpus, cfg.batch_size, cfg.num_steps, offset=trace.offset)
    net = seeded_model(
        cfg.model, len(vocab), cfg.hidden, cfg.layers, cfg.seed, cfg.bias, cfg.learn_boundary, cfg.port_engine
    )
    trace.init_own = to_djl(net)
    if init_params is not None:
        from_djl(net, init_params)
    net.to(device)
    trace.init_params = to_djl(net)
    if on_init is not None:
        on_init()

    def hook(rec: StepRecord) -> None:
        if len(trace.step_losses) < steps:
            trace.step_losses.append(float(rec.loss))
        if trace.step1 is None:
            trace.step1 = StepTrace(
                rec.logits.numpy(),
                state_arrays([s.numpy() for s in rec.state_out]),
                np.float32(rec.loss),
                rec.grads_before,
                np.float64(rec.grad_norm),
                rec.grads_after,
                rec.params_after,
            )

    for epoch in range(cfg.epochs):
        needs_hook = trace.step1 is None or len(trace.step_losses) < steps
        ppl, speed = train_epoch_ch8(
            net,
            dataset.batches(device),
            cfg.lr,
            device,
            cfg.random_iter,
            cfg.mode,
            hook if needs_hook else None,
            zero_scratch_grads=cfg.port_engine == "mxnet",
        )
        trace.perplexities.append(ppl)
        trace.speeds.append(speed)
        if on_epoch is not None:
            on_epoch(epoch + 1, ppl, speed)
    trace.final_params = to_djl(net)
    trace.predictions = {p: predict_ch8(p, NUM_PREDS, net, vocab, device) for p in PREFIXES}
    return trace
