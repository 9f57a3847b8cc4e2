"""The PyTorch port as a side: a :class:`~djl_bridge.trace.Request` in, a complete :class:`~djl_bridge.trace.Trace` out.

It builds the notebook's data and model, draws its own initial weights from the seed in DJL's
parameter order (``params.seeded_model``), takes the request's weights when given, trains (on the
dataset's batches, or on exactly the batches a notebook fed: ``Request.feed``), and records every
stage on the way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

from djl_bridge.config import RunConfig
from djl_bridge.trace import NUM_PREDS, PREFIXES, Data, Feed, Request, Step, Trace, joined_tokens, printed_lines
from djl_bridge.training import Clip, StepRecord, predict_ch8, train_epoch_ch8

EpochCallback = Callable[[int, float, float], None]


def port_data(cfg: RunConfig, data: Path, offset: int | None) -> Data:
    """The text and data stages of the port (``offset`` None: drawn from the seed as the port's dataset does)."""
    from djl_bridge.dataset import TimeMachineDataset
    from djl_bridge.text import load_corpus_time_machine, read_time_machine, tokenize

    lines = read_time_machine(data)
    corpus, vocab = load_corpus_time_machine(data, cfg.max_tokens)
    dataset = TimeMachineDataset(corpus, cfg.batch_size, cfg.num_steps, offset=offset, seed=cfg.seed)
    xs, ys = zip(*dataset.batches(torch.device("cpu")))
    return Data(
        list(map(str, lines)),
        joined_tokens(tokenize(lines, "char")),
        list(map(str, vocab.idx_to_token)),
        list(corpus),
        dataset.offset,
        torch.stack(xs).numpy(),
        torch.stack(ys).numpy(),
    )


class _Recorder:
    """Collects every step's scalars and the first ``full`` steps in full."""

    def __init__(self, full: int, reversed_rows: bool = False) -> None:
        self.full = full
        self.reversed_rows = reversed_rows
        self.steps: list[Step] = []
        self.losses: list[float] = []
        self.grad_norms: list[float] = []
        self.grad_sq: list[list[float]] = []

    def wants_full(self) -> bool:
        return len(self.steps) < self.full

    def on_step(self, loss: float, clip: Clip) -> None:
        self.losses.append(loss)
        self.grad_norms.append(clip.norm)
        self.grad_sq.append(clip.sq)

    def on_full(self, rec: StepRecord) -> None:
        if not self.wants_full():
            return
        logits, state_out = rec.logits, rec.state_out
        if self.reversed_rows:  # back in the batch's row order: logits are (time, row) major, states (..., row, H)
            logits = logits.reshape(-1, rec.state_out[0].shape[-2], logits.shape[-1]).flip(1).reshape(logits.shape)
            state_out = [s.flip(-2) for s in state_out]
        state = {name: s.numpy() for name, s in zip(("H", "C"), state_out)}
        self.steps.append(
            Step(
                logits.numpy(),
                state,
                np.float32(rec.loss),
                rec.grads_before,
                np.float64(rec.grad_norm),
                rec.grads_after,
                rec.params_after,
            )
        )


def _epochs(request: Request, dataset, device: torch.device) -> Iterator[tuple[Iterable, list[bool] | None]]:
    """Each epoch's batches, with the recorded carried flags when the request feeds them."""
    feed: Feed | None = request.feed
    if feed is None:
        for _ in range(request.config.epochs):
            yield dataset.batches(device), None
        return
    for steps in feed.epochs():
        batches = [(torch.from_numpy(feed.xs[k]), torch.from_numpy(feed.ys[k])) for k in steps]
        yield batches, [bool(feed.carried[k]) for k in steps]


def _rows_reversed(batches: Iterable) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    return ((X.flip(0), Y.flip(0)) for X, Y in batches)


def run(request: Request, on_epoch: EpochCallback | None = None) -> Trace:
    """Run the notebook's training on the port as ``request`` asks; every stage recorded."""
    from djl_bridge.dataset import TimeMachineDataset
    from djl_bridge.device import djl_device_name, resolve_device
    from djl_bridge.environment import port_environment
    from djl_bridge.params import to_djl
    from djl_bridge.text import load_corpus_time_machine

    cfg, path = request.config, Path(request.data)
    device = resolve_device(cfg.device)
    data = port_data(cfg, path, cfg.offset)
    corpus, vocab = load_corpus_time_machine(path, cfg.max_tokens)
    dataset = TimeMachineDataset(corpus, cfg.batch_size, cfg.num_steps, offset=data.offset)
    net, init_own = _model(request, len(vocab))
    init = to_djl(net)
    net.to(device)
    rec, perplexities, speeds = _Recorder(request.full_steps, request.reversed_rows), [], []
    for batches, carried in _epochs(request, dataset, device):
        ppl, speed = train_epoch_ch8(
            net,
            _rows_reversed(batches) if request.reversed_rows else batches,
            cfg.lr,
            device,
            cfg.random_iter,
            cfg.mode,
            rec.on_full if rec.wants_full() else None,
            zero_scratch_grads=cfg.port_engine == "mxnet",
            on_step=rec.on_step,
            carried=carried,
        )
        perplexities.append(ppl)
        speeds.append(speed)
        if on_epoch is not None:
            on_epoch(len(perplexities), ppl, speed)
    predictions = {p: predict_ch8(p, NUM_PREDS, net, vocab, device) for p in PREFIXES}
    final = to_djl(net)
    return Trace(
        side="port",
        environment=port_environment(cfg, device),
        data=data,
        init_own=init_own,
        init=init,
        steps=rec.steps,
        losses=rec.losses,
        grad_norms=rec.grad_norms,
        grad_sq=rec.grad_sq,
        perplexities=perplexities,
        speeds=speeds,
        final=final,
        predictions=predictions,
        printed=printed_lines(perplexities[-1], speeds[-1], djl_device_name(device), predictions) if speeds else [],
        layout_logits=_layout_logits(cfg, len(vocab), init, data) if request.layout_logits else None,
        findings=_findings(cfg, path, final, data.offset, perplexities, predictions),
    )


def _model(request: Request, vocab_size: int):
    """The port's model from the seed (and its own draw, by DJL name), then given the request's weights and
    starting gradients where it has them."""
    from djl_bridge.params import from_djl, seeded_model, set_grads, to_djl

    cfg = request.config
    net = seeded_model(
        cfg.model, vocab_size, cfg.hidden, cfg.layers, cfg.seed, cfg.bias, cfg.learn_boundary, cfg.port_engine
    )
    init_own = to_djl(net)
    if request.init is not None:
        from_djl(net, request.init)
    if request.init_grads is not None and cfg.port_engine == "pytorch":  # MXNet overwrites them at each backward
        set_grads(net, request.init_grads)
    return net, init_own


def _layout_logits(cfg: RunConfig, vocab_size: int, init, data: Data) -> np.ndarray:
    """Step 1's logits from ``init`` read by name in libtorch's layout (not an engine's flat one)."""
    from djl_bridge.models import build_model
    from djl_bridge.params import from_djl

    net = build_model(cfg.model, vocab_size, cfg.hidden, cfg.layers)
    from_djl(net, init)
    with torch.no_grad():
        logits, _ = net(torch.from_numpy(data.batches_x[0]))
    return logits.numpy()


def _findings(cfg: RunConfig, path: Path, final, offset: int, perplexities: list[float], predictions) -> list[str]:
    """The hand-derived bi-RNN's cautionary finding (its weights read causally); nothing for other models."""
    if cfg.model != "birnn-hand" or not perplexities:
        return []
    return [future_finding(cfg, path, final, offset, perplexities[-1], predictions)]


def future_finding(cfg, data, final_params: dict, offset: int, training_ppl: float, predictions: dict[str, str]) -> str:
    """The cautionary finding of a trained birnn-hand, measured: its training perplexity against
    its perplexity on the same batches read causally, and its predictions."""
    from djl_bridge.birnn_hand import BiRnnHand, causal_perplexity
    from djl_bridge.dataset import TimeMachineDataset
    from djl_bridge.params import from_djl
    from djl_bridge.text import load_corpus_time_machine

    corpus, vocab = load_corpus_time_machine(data, cfg.max_tokens)
    net = BiRnnHand(len(vocab), cfg.hidden, cfg.bias, cfg.learn_boundary)
    from_djl(net, final_params)
    dataset = TimeMachineDataset(corpus, cfg.batch_size, cfg.num_steps, offset=offset)
    causal = causal_perplexity(net, dataset.batches(torch.device("cpu")))
    shown = "; ".join(f"{p!r} -> {s[len(p) :]!r}" for p, s in predictions.items())
    return (
        f"birnn-hand sees the future while it trains: the backward chain at step t has read the "
        f"target x_(t+1). Last epoch's training perplexity {training_ppl:.3f}; the same weights read one token "
        f"at a time, as prediction reads them (no future), give perplexity {causal:.3f} on the same "
        f"batches. Predictions: {shown}."
    )
