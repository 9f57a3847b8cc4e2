"""``trainCh8`` / ``trainEpochCh8`` / ``predictCh8`` of the notebook.

Mode "parity" performs DJL's arithmetic on its PyTorch engine op by op (docs/notebook.md, "Training"):
Java scalars become 0-d tensors of the Java type on the array's device (int -> int32,
float -> float32, double -> float64), the loss is log_softmax -> gather -> neg -> mean -> mean,
the clipping norm is a sum of float32 per-parameter sums in a double, and the concise update is
the JNI's ``g' = (g + 0*w) * lr; w -= g'`` followed by zeroing the gradient.

Mode "fast" keeps the maths but uses PyTorch's fused forms: ``F.cross_entropy`` (a different
reduction order: the loss differs in the last bits), ``clip_grad_norm_`` with foreach (float32
norm instead of a double sum, and a factor ``theta / (norm + 1e-6)`` always applied: gradients
differ by about 1e-6 relative), and foreach SGD (``w += -lr * g``). On CUDA both modes let
libtorch pick cuDNN for the recurrent layer, as DJL does.

Deviation kept on purpose: the Java loop calls ``s.stopGradient()`` and drops the result; on the
PyTorch engine that returns a detached copy, so the original never detaches the carried state.
The port detaches it (the evident intent, and the only runnable form with libtorch autograd).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from djl_bridge.birnn_hand import BiRnnHand
from djl_bridge.device import djl_device_name
from djl_bridge.javanum import java_scalar
from djl_bridge.models import RNNModelScratch, State
from djl_bridge.params import djl_parameters, grads_to_djl, to_djl
from djl_bridge.text import Vocab

MODES = ("parity", "fast")


class Accumulator:
    """Java ``Accumulator``: float32 slots, each addition rounded to float32."""

    def __init__(self, n: int) -> None:
        self.data = np.zeros(n, np.float32)

    def add(self, *values: float) -> None:
        self.data += np.asarray(values, np.float32)

    def __getitem__(self, i: int) -> np.float32:
        return self.data[i]


class StopWatch:
    """Java ``StopWatch``: ``stop()`` returns and records the seconds since ``start()``."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.start()

    def start(self) -> None:
        self._t0 = time.perf_counter()

    def stop(self) -> float:
        self.times.append(time.perf_counter() - self._t0)
        return self.times[-1]

    def sum(self) -> float:
        return sum(self.times)


@dataclass
class StepRecord:
    """One training step, for comparison with the Java side (DJL names and layouts)."""

    step: int
    x: torch.Tensor
    y: torch.Tensor
    logits: torch.Tensor
    state_in: list[torch.Tensor] | None
    state_out: list[torch.Tensor]
    loss: float
    grads_before: dict[str, np.ndarray]
    grad_norm: float
    grads_after: dict[str, np.ndarray]
    params_after: dict[str, np.ndarray]


@dataclass
class TrainResult:
    perplexities: list[float] = field(default_factory=list)
    speeds: list[float] = field(default_factory=list)
    final_line: str = ""
    predictions: list[str] = field(default_factory=list)


def loss_fn(logits: torch.Tensor, labels: torch.Tensor, mode: str = "parity") -> torch.Tensor:
    """Mean softmax cross-entropy (DJL ``SoftmaxCrossEntropyLoss`` then ``.mean()``)."""
    if mode == "fast":
        return F.cross_entropy(logits, labels.long())
    picked = logits.log_softmax(dim=-1).gather(1, labels.long().reshape(-1, 1))
    return picked.neg().mean().mean()


@torch.no_grad()
def grad_clipping(params: list[torch.Tensor], theta: int, mode: str = "parity") -> float:
    """Scale all gradients by theta/norm when their global norm exceeds theta; return the norm."""
    if mode == "fast":
        return float(nn.utils.clip_grad_norm_(params, theta, foreach=True))
    grads = [p.grad for p in params if p.grad is not None]
    total = 0.0  # Java double, fed float32 sums
    for g in grads:
        total += g.pow(java_scalar(2, g)).sum().item()
    norm = math.sqrt(total)
    if norm > theta:
        for g in grads:
            g.mul_(java_scalar(theta / norm, g))
    return norm


@torch.no_grad()
def sgd(params: list[torch.Tensor], lr: float, batch_size: int) -> None:
    """The scratch updater ``param -= grad * lr / batchSize`` (float lr, int batch size)."""
    for p in params:
        p.sub_(p.grad.mul(java_scalar(lr, p, "float")).div(java_scalar(batch_size, p)))


@torch.no_grad()
def _djl_sgd_step(params: list[torch.Tensor], lr: float) -> None:
    """DJL's ``Sgd`` through the JNI: rescale 1 and clip -1 skipped, weight decay 0 still added."""
    lr = float(np.float32(lr))
    for p in params:
        update = p.grad.clone()
        update.add_(p, alpha=0.0).mul_(lr)
        p.sub_(update)
        p.grad.zero_()


@torch.no_grad()
def _fast_step(params: list[torch.Tensor], lr: float, zero: bool) -> None:
    grads = [p.grad for p in params]
    torch._foreach_add_(params, grads, alpha=-lr)
    if zero:
        torch._foreach_zero_(grads)


def _next_state(
    net: nn.Module, state: State | None, batch: int, device: torch.device, boundary: bool, none: bool
) -> State | None:
    """The state a batch starts from: a scratch model's zero state at a boundary, no state when told
    so (a concise model's fresh start), else the previous batch's, detached."""
    if boundary:
        return net.begin_state(batch, device)
    if none or state is None:
        return None
    return [s.detach() for s in state]


def _update(params: list[torch.Tensor], lr: float, mode: str, scratch: bool, zero_scratch_grads: bool) -> None:
    """The notebook's update after clipping: the scratch SGD or DJL's Sgd (parity), or foreach SGD (fast)."""
    if mode == "fast":
        _fast_step(params, lr, zero=not scratch or zero_scratch_grads)
    elif scratch:
        sgd(params, lr, 1)
        if zero_scratch_grads:
            for p in params:
                p.grad.zero_()
    else:
        _djl_sgd_step(params, lr)


def train_epoch_ch8(
    net: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    lr: float,
    device: torch.device,
    use_random_iter: bool,
    mode: str = "parity",
    step_hook: Callable[[StepRecord], None] | None = None,
    zero_scratch_grads: bool = False,
    carried: Sequence[bool] | None = None,
) -> tuple[float, float]:
    """One epoch; returns (perplexity, tokens/s).

    ``carried`` (one flag per batch, as a recorded loop has them) replaces the rule below: batch
    ``i`` continues the previous batch's (detached) state when ``carried[i]``, else it begins a fresh
    one (a scratch model's zero state, a concise model's none).

    ``zero_scratch_grads=False`` follows docs/notebook.md ("Training" 5): on DJL's PyTorch engine nothing zeroes the
    scratch model's gradients, so they accumulate across batches. The concise model's state is
    carried (not reset) even with ``use_random_iter``, as in the Java code; the scratch model's
    is reset per batch then. ``BiRnnHand`` trains like a scratch model, but its step sets
    every gradient by hand (fresh each batch, so nothing accumulates) instead of ``backward``.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: expected one of {MODES}")
    hand = isinstance(net, BiRnnHand)
    scratch = hand or isinstance(net, RNNModelScratch)
    params = [p for _, p in djl_parameters(net)]
    watch, metric = StopWatch(), Accumulator(2)
    state: State | None = None
    net.train()
    for step, (X, Y) in enumerate(batches):
        X, Y = X.to(device), Y.to(device)
        fresh = state is None or use_random_iter if carried is None else not carried[step]
        from_boundary = scratch and fresh
        state = _next_state(net, state, X.shape[0], device, from_boundary, fresh and carried is not None)
        state_in = state
        y = Y.T.reshape(-1)
        if hand:
            y_hat, state, loss = net.hand_step(X, y, state, from_boundary, lambda q, t: loss_fn(q, t, mode))
        else:
            y_hat, state = net(X, state)
            loss = loss_fn(y_hat, y, mode)
            loss.backward()
        loss_value = loss.item()
        metric.add(np.float32(loss_value) * np.float32(y.numel()), y.numel())
        grads_before = grads_to_djl(net) if step_hook else {}
        norm = grad_clipping(params, 1, mode)
        grads_after = grads_to_djl(net) if step_hook else {}
        _update(params, lr, mode, scratch, zero_scratch_grads)
        if step_hook:
            step_hook(
                StepRecord(
                    step,
                    X.cpu(),
                    Y.cpu(),
                    y_hat.detach().cpu(),
                    None if state_in is None else [s.detach().cpu() for s in state_in],
                    [s.detach().cpu() for s in state],
                    loss_value,
                    grads_before,
                    norm,
                    grads_after,
                    to_djl(net),
                )
            )
    perplexity = math.exp(metric[0] / metric[1])  # float32 division, as Java's float / float
    return perplexity, float(metric[1]) / watch.stop()


@torch.no_grad()
def predict_ch8(prefix: str, num_preds: int, net: nn.Module, vocab: Vocab, device: torch.device) -> str:
    """Warm up on ``prefix`` then append ``num_preds`` greedy (argmax) tokens."""
    if not prefix:
        raise ValueError("prefix must not be empty")
    state = net.begin_state(1, device) if isinstance(net, (RNNModelScratch, BiRnnHand)) else None
    outputs = [vocab.get_idx(prefix[0])]

    def step(state: State | None) -> tuple[torch.Tensor, State]:
        X = torch.tensor(outputs[-1], dtype=torch.int32, device=device).reshape(1, 1)
        return net(X, state)

    for ch in prefix[1:]:
        _, state = step(state)
        outputs.append(vocab.get_idx(ch))
    for _ in range(num_preds):
        y, state = step(state)
        outputs.append(int(y.argmax(dim=1).reshape(1)[0]))
    return "".join(vocab.to_tokens(outputs))


def java_1f(value: float) -> str:
    """Java's ``%.1f``: the exact binary value rounded HALF_UP."""
    return str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def train_ch8(
    net: nn.Module,
    dataset,
    vocab: Vocab,
    lr: float,
    num_epochs: int,
    device: torch.device,
    use_random_iter: bool = False,
    mode: str = "parity",
    on_epoch: Callable[[int, float, float], None] | None = None,
    step_hook: Callable[[StepRecord], None] | None = None,
    zero_scratch_grads: bool = False,
) -> TrainResult:
    """Train ``num_epochs`` (``on_epoch(epoch, perplexity, speed)`` after each); return the
    curves, the notebook's final line and its two 50-character predictions (nothing printed)."""
    net.to(device)
    result = TrainResult()
    for epoch in range(1, num_epochs + 1):
        ppl, speed = train_epoch_ch8(
            net, dataset.batches(device), lr, device, use_random_iter, mode, step_hook, zero_scratch_grads
        )
        result.perplexities.append(ppl)
        result.speeds.append(speed)
        if on_epoch:
            on_epoch(epoch, ppl, speed)
    if result.perplexities:
        result.final_line = f"perplexity: {java_1f(ppl)}, {java_1f(speed)} tokens/sec on {djl_device_name(device)}"
    result.predictions = [predict_ch8(p, 50, net, vocab, device) for p in ("time traveller", "traveller")]
    return result
