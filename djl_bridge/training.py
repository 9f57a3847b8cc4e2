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
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from djl_bridge.birnn_hand import BiRnnHand
from djl_bridge.javanum import java_scalar
from djl_bridge.layers import State
from djl_bridge.models import RNNModelScratch
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
    """One training step in full, for comparison with the Java side (DJL names and layouts)."""

    step: int
    logits: torch.Tensor
    state_in: list[torch.Tensor] | None
    state_out: list[torch.Tensor]
    loss: float
    grads_before: dict[str, np.ndarray]
    grad_norm: float
    grads_after: dict[str, np.ndarray]
    params_after: dict[str, np.ndarray]


@dataclass(frozen=True)
class Clip:
    """What clipping measured: the global norm and each parameter's float32 sum of squared gradients."""

    norm: float
    sq: list[float]


StepHook = Callable[[StepRecord], None]
#: every step: (loss, what clipping measured)
ScalarHook = Callable[[float, Clip], None]


def loss_fn(logits: torch.Tensor, labels: torch.Tensor, mode: str = "parity") -> torch.Tensor:
    """Mean softmax cross-entropy (DJL ``SoftmaxCrossEntropyLoss`` then ``.mean()``)."""
    if mode == "fast":
        return F.cross_entropy(logits, labels.long())
    picked = logits.log_softmax(dim=-1).gather(1, labels.long().reshape(-1, 1))
    return picked.neg().mean().mean()


@torch.no_grad()
def grad_clipping(params: list[torch.Tensor], theta: int, mode: str = "parity") -> Clip:
    """Scale all gradients by theta/norm when their global norm exceeds theta; what was measured."""
    grads = [p.grad for p in params if p.grad is not None]
    if mode == "fast":
        sq = [float(torch.linalg.vector_norm(g)) ** 2 for g in grads]
        return Clip(float(nn.utils.clip_grad_norm_(params, theta, foreach=True)), sq)
    sq = [g.pow(java_scalar(2, g)).sum().item() for g in grads]  # float32 sums
    total = 0.0  # Java double, fed the float32 sums
    for x in sq:
        total += x
    norm = math.sqrt(total)
    if norm > theta:
        for g in grads:
            g.mul_(java_scalar(theta / norm, g))
    return Clip(norm, sq)


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


def _update(net: nn.Module, params: list[torch.Tensor], lr: float, mode: str, scratch: bool, zero: bool) -> None:
    """The notebook's update: the scratch SGD (gradients kept unless ``zero``) or DJL's Trainer SGD."""
    if mode == "fast":
        _fast_step(params, lr, zero=not scratch or zero)
    elif scratch:
        sgd(params, lr, 1)
        if zero:
            for p in params:
                p.grad.zero_()
    else:
        _djl_sgd_step(params, lr)


def _start_state(net: nn.Module, state: State | None, X: torch.Tensor, fresh: bool, device) -> State | None:
    """The state a step starts from: fresh (a scratch model's ``begin_state``, a concise model's none),
    or the previous step's, detached."""
    if fresh:
        return net.begin_state(X.shape[0], device) if _is_scratch(net) else None
    return [s.detach() for s in state] if state is not None else None


def _is_scratch(net: nn.Module) -> bool:
    return isinstance(net, (BiRnnHand, RNNModelScratch))


def _forward_backward(net: nn.Module, X, y, state, fresh: bool, mode: str):
    """The step's forward and gradients (autograd, or by hand for ``BiRnnHand``): (logits, state, loss)."""
    if isinstance(net, BiRnnHand):
        return net.hand_step(X, y, state, fresh, lambda q, t: loss_fn(q, t, mode))
    y_hat, state = net(X, state)
    loss = loss_fn(y_hat, y, mode)
    loss.backward()
    return y_hat, state, loss


def train_epoch_ch8(
    net: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    lr: float,
    device: torch.device,
    use_random_iter: bool,
    mode: str = "parity",
    step_hook: StepHook | None = None,
    zero_scratch_grads: bool = False,
    on_step: ScalarHook | None = None,
    carried: Sequence[bool] | None = None,
) -> tuple[float, float]:
    """One epoch; returns (perplexity, tokens/s).

    State (docs/notebook.md, "Training"): fresh at the epoch's first batch, and at every batch for a
    scratch model with ``use_random_iter``; otherwise carried, detached. The concise model's state is
    carried even with ``use_random_iter``, as in the Java code. ``carried`` (a recorded loop's) says
    it per batch instead. ``zero_scratch_grads=False`` follows DJL's PyTorch engine: nothing zeroes a
    scratch model's gradients, so they accumulate. ``step_hook`` gets every step in full, ``on_step``
    every step's loss and clipping figures.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: expected one of {MODES}")
    scratch = _is_scratch(net)
    params = [p for _, p in djl_parameters(net)]
    watch, metric = StopWatch(), Accumulator(2)
    state: State | None = None
    net.train()
    for step, (X, Y) in enumerate(batches):
        X, Y = X.to(device), Y.to(device)
        fresh = state is None or (not carried[step] if carried is not None else scratch and use_random_iter)
        state_in = state = _start_state(net, state, X, fresh, device)
        y = Y.T.reshape(-1)
        y_hat, state, loss = _forward_backward(net, X, y, state, fresh, mode)
        loss_value = loss.item()
        metric.add(np.float32(loss_value) * np.float32(y.numel()), y.numel())
        grads_before = grads_to_djl(net) if step_hook else {}
        clip = grad_clipping(params, 1, mode)
        grads_after = grads_to_djl(net) if step_hook else {}
        _update(net, params, lr, mode, scratch, zero_scratch_grads)
        if on_step:
            on_step(loss_value, clip)
        if step_hook:
            detached = None if state_in is None else [s.detach().cpu() for s in state_in]
            out = [s.detach().cpu() for s in state]
            step_hook(
                StepRecord(
                    step,
                    y_hat.detach().cpu(),
                    detached,
                    out,
                    loss_value,
                    grads_before,
                    clip.norm,
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
