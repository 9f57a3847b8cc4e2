"""A notebook's own training loop, as recorded in DJL (``notebook/recorded.py``), replayed on the port.

The port trains on exactly the batches the notebook fed, with its carried-or-fresh state per step,
from the notebook's initial weights, with the port's own arithmetic (``training.train_epoch_ch8``).
The port model's parameters (``params.djl_names``, DJL's order) map by position onto the loop's
names, which are in DJL's tracking order: a concise model's parameters as ``Parameter.initialize``
made them trainable, a scratch model's as the notebook listed them.

On DJL's PyTorch engine nothing zeroes a scratch model's gradients, so they accumulate across the
notebook's loops too: replay a notebook's loops in order on one port model, which keeps its
gradients from one replay to the next as the notebook's arrays kept theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from djl_bridge.params import djl_names, from_djl, to_djl
from djl_bridge.training import Clip, train_epoch_ch8

if TYPE_CHECKING:  # the port never imports the bridge; a recorded loop is plain numpy
    from djl_bridge.notebook.recorded import RecordedLoop


@dataclass(frozen=True)
class Replayed:
    """The port's run of a recorded loop, step by step, with its parameters named as the loop's."""

    losses: np.ndarray  # (steps,) float32
    grad_norms: np.ndarray  # (steps,) float64
    final: dict[str, np.ndarray]


@dataclass(frozen=True)
class Divergence:
    """The first step whose computation differs between the notebook and its replay."""

    step: int
    stage: str  # "forward", "backward" or "update"
    message: str


def replay(
    loop: RecordedLoop,
    net: nn.Module,
    lr: float,
    device: torch.device | str = "cpu",
    mode: str = "parity",
    zero_scratch_grads: bool = False,
) -> Replayed:
    """Set ``net`` to the loop's initial weights and train it on the loop's batches (``lr``: the loop's
    learning rate, which the recording does not know)."""
    names = djl_names(net)
    if len(names) != len(loop.names):
        raise ValueError(f"the port model has {len(names)} parameters, the recorded loop {len(loop.names)}")
    from_djl(net, {djl: loop.initial[name] for djl, name in zip(names, loop.names)})
    losses: list[float] = []
    norms: list[float] = []

    def heard(loss: float, clip: Clip) -> None:
        losses.append(loss)
        norms.append(clip.norm)

    batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in zip(loop.xs, loop.ys)]
    device = torch.device(device)
    net.to(device)
    carried = loop.carried.tolist()
    with torch.enable_grad():  # libtorch's grad mode is per thread, and DJL (sharing it) leaves it off
        train_epoch_ch8(net, batches, lr, device, False, mode, None, zero_scratch_grads, heard, carried)
    values = to_djl(net)
    return Replayed(
        np.array(losses, np.float32),
        np.array(norms, np.float64),
        {name: values[djl] for djl, name in zip(names, loop.names)},
    )


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per element: not the same bits (arrays of one float type)."""
    unsigned = {4: np.uint32, 8: np.uint64}[a.dtype.itemsize]
    return np.ascontiguousarray(a).view(unsigned) != np.ascontiguousarray(b).view(unsigned)


def _where(loop: RecordedLoop, step: int) -> str:
    starts = [s for s in loop.epoch_starts if s <= step] or [0]
    return f"step {step} (epoch {len(starts)}, batch {step - starts[-1] + 1})"


def first_divergence(loop: RecordedLoop, replayed: Replayed) -> Divergence | None:
    """Where the replay first parts from the notebook, bit for bit; None when they never do.

    A step's loss depends on the weights before it, so a first differing loss at step ``i > 0``
    (the losses and gradient norms of step ``i - 1`` equal) means step ``i - 1``'s update (its
    clipping or optimizer) differs; at step 0 the forward (or the initial weights) does. Equal
    losses with a differing gradient norm mean that step's backward differs.
    """
    if len(replayed.losses) != len(loop.losses):
        raise ValueError(f"the replay has {len(replayed.losses)} steps, the loop {len(loop.losses)}")
    loss = _differs(loop.losses, replayed.losses)
    norm = _differs(loop.grad_norms, replayed.grad_norms)
    bad = np.flatnonzero(loss | norm)
    if len(bad) == 0:
        differing = [n for n in loop.names if _differs(loop.final[n], replayed.final[n]).any()]
        if not differing or not len(loop.losses):
            return None
        step = len(loop.losses) - 1
        return Divergence(step, "update", f"{_where(loop, step)}: the last update differs ({differing[0]} first)")
    i = int(bad[0])
    recorded, port = loop.losses[i], replayed.losses[i]
    if not loss[i]:
        return Divergence(i, "backward", f"{_where(loop, i)}: the gradient norm differs, the loss {recorded} agrees")
    if i == 0:
        return Divergence(0, "forward", f"{_where(loop, 0)}: the first loss differs ({recorded} vs {port})")
    return Divergence(
        i - 1,
        "update",
        f"{_where(loop, i - 1)}: its update differs; step {i}'s loss is the first to differ ({recorded} vs {port})",
    )
