"""Gradient checks for the scratch models, on both sides, in float64 (``djl-parity gradcheck``).

On random small problems (random weights, tokens and carried states, vocabulary and sizes below):

- ``hand-vs-autograd`` (birnn-hand): the hand-derived gradients of the training step against
  autograd on the same forward pass: PyTorch's on the Python side, DJL's GradientCollector on the
  Java side.
- ``djl-vs-torch`` (rnn/gru/lstm-scratch, whose training gradients *are* autograd's): the Java
  model's GradientCollector gradients against PyTorch autograd on the port, same weights and batch.
- ``finite-diff``: the training gradient against central differences of the loss,
  ``(L(p + e) - L(p - e)) / 2e`` with ``e = FD_STEP``, at ``FD_ENTRIES`` random entries of every
  parameter, on each side.

The error of a parameter is ``max |g - ref| / max |ref|`` over its entries (for finite
differences, over the checked entries, relative to the largest gradient entry of the
parameter), worst over all problems. A check fails above its threshold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from djl_bridge.models import build_model
from djl_bridge.training import loss_fn

MODELS = ("birnn-hand", "rnn-scratch", "gru-scratch", "lstm-scratch")
SIDES = ("python", "java")
#: threshold per check. Float64 autograd agrees to rounding: measured worst 1.6e-15 (birnn-hand,
#: seed 0) and 0 for DJL against PyTorch (the same libtorch ops). Central differences are limited by
#: e**2 truncation and rounding/e: measured worst 7.1e-10 (birnn-hand) and 2.4e-8 (gru-scratch).
THRESHOLDS = {"hand-vs-autograd": 1e-10, "djl-vs-torch": 1e-10, "finite-diff": 1e-6}
FD_STEP = 1e-5
FD_ENTRIES = 4
WEIGHT_SCALE = 0.5  # large enough that tanh/sigmoid are well off their linear part


@dataclass(frozen=True)
class Problem:
    vocab: int
    hidden: int
    batch: int
    steps: int
    from_boundary: bool  # birnn-hand: start at the boundary h_0; scratch: zero state
    bias: bool = False
    learn_boundary: bool = False


#: vocabulary 29 is the Java side's character vocabulary of The Time Machine
HAND_PROBLEMS = (
    Problem(29, 6, 2, 5, True, bias=True, learn_boundary=True),
    Problem(29, 5, 3, 4, True),
    Problem(7, 4, 4, 3, False, bias=True, learn_boundary=True),
    Problem(7, 3, 1, 1, True, bias=True, learn_boundary=True),
)
SCRATCH_PROBLEMS = (Problem(29, 5, 3, 4, True), Problem(7, 4, 2, 3, False))


@dataclass
class Row:
    side: str
    check: str
    param: str
    error: float

    @property
    def threshold(self) -> float:
        return THRESHOLDS[self.check]

    @property
    def ok(self) -> bool:
        return bool(self.error <= self.threshold)


Arrays = dict[str, np.ndarray]
LossAt = Callable[[str, np.ndarray], float]


def relative_error(got: np.ndarray, ref: np.ndarray) -> float:
    """``max |got - ref| / max |ref|``; 0 when both are all zero."""
    diff = float(np.max(np.abs(got - ref), initial=0.0))
    scale = float(np.max(np.abs(ref), initial=0.0))
    return 0.0 if diff == 0.0 else diff / max(scale, np.finfo(np.float64).tiny)


def finite_difference_errors(
    grads: Arrays, weights: Arrays, loss_at: LossAt, rng: np.random.Generator
) -> dict[str, float]:
    """Per parameter: central differences at a few random entries against ``grads``.
    ``loss_at(name, value)`` is the loss with that parameter replaced by ``value``."""
    out = {}
    for name, g in grads.items():
        w = weights[name]
        scale = max(float(np.max(np.abs(g))), np.finfo(np.float64).tiny)
        worst = 0.0
        for i in rng.choice(w.size, size=min(FD_ENTRIES, w.size), replace=False):
            plus, minus = w.copy().reshape(-1), w.copy().reshape(-1)
            plus[i] += FD_STEP
            minus[i] -= FD_STEP
            fd = (loss_at(name, plus.reshape(w.shape)) - loss_at(name, minus.reshape(w.shape))) / (2 * FD_STEP)
            diff = abs(fd - float(g.reshape(-1)[i]))
            worst = max(worst, 0.0 if diff == 0.0 else diff / scale)
        out[name] = worst
    return out


class _PythonSide:
    def __init__(
        self, model: str, p: Problem, weights: Arrays, X: np.ndarray, Y: np.ndarray, state: list[np.ndarray] | None
    ) -> None:
        self.net = build_model(model, p.vocab, p.hidden, 1, p.bias, p.learn_boundary).double()
        self.weights = weights
        self.X, self.Y = torch.from_numpy(X), torch.from_numpy(Y)
        self.y = self.Y.T.reshape(-1)
        self.state = None if state is None else [torch.from_numpy(s) for s in state]
        self._load(weights)

    def _load(self, weights: Arrays) -> None:
        with torch.no_grad():
            for name, p in zip(self.net.param_names, self.net.params):
                p.copy_(torch.from_numpy(weights[name]))

    def _state(self):
        return self.net.begin_state(self.X.shape[0]) if self.state is None else self.state

    def _logits(self) -> torch.Tensor:
        if hasattr(self.net, "logits_with_autograd"):
            return self.net.logits_with_autograd(self.X, self._state())
        return self.net(self.X, self._state())[0]

    def loss_at(self, name: str, value: np.ndarray) -> float:
        self._load({**self.weights, name: value})
        with torch.no_grad():
            loss = float(loss_fn(self._logits(), self.y))
        self._load(self.weights)
        return loss

    def autograd(self) -> Arrays:
        with torch.enable_grad():
            params = self.net.params
            grads = torch.autograd.grad(loss_fn(self._logits(), self.y), params, allow_unused=True)
        return {
            n: (torch.zeros_like(p) if g is None else g).numpy() for n, p, g in zip(self.net.param_names, params, grads)
        }

    def hand(self) -> Arrays:
        self.net.hand_step(self.X, self.y, self._state(), self.state is None, loss_fn)
        return {n: p.grad.numpy().copy() for n, p in zip(self.net.param_names, self.net.params)}


class _JavaSide:
    def __init__(
        self, model: str, p: Problem, weights: Arrays, X: np.ndarray, Y: np.ndarray, state: list[np.ndarray] | None
    ) -> None:
        from djl_bridge.jvm.convert import to_ndarray
        from djl_bridge.jvm.errors import java_call
        from djl_bridge.jvm.runtime import jclass, start

        start()
        self._to_nd, self._call, self._jclass = to_ndarray, java_call, jclass
        self.probe = jclass("org.djlparity.bridge.GradProbe")
        self.params = jclass("org.djlparity.bridge.Params")
        with java_call():
            self.manager = jclass("ai.djl.ndarray.NDManager").newBaseManager(jclass("ai.djl.Device").cpu())
            d2l = "org.djlparity.d2l."
            if model == "birnn-hand":
                f64 = jclass("ai.djl.ndarray.types.DataType").FLOAT64
                self.net = jclass(d2l + "BiRnnHand").create(
                    p.vocab, p.hidden, p.bias, p.learn_boundary, f64, self.manager.getDevice(), self.manager
                )
            else:
                self.net = jclass(d2l + "Models").create(
                    model, p.vocab, p.hidden, 1, False, self.manager.getDevice(), self.manager
                )
                self.probe.toFloat64(self.net)
            self.names = [str(n) for n in self.params.names(self.net)]
            self.X, self.Y = to_ndarray(self.manager, X), to_ndarray(self.manager, Y)
            self.state = None
            if state is not None:
                self.state = jclass("ai.djl.ndarray.NDList")()
                for s in state:
                    self.state.add(to_ndarray(self.manager, s))
        self.weights = weights
        self._load(weights)

    def _load(self, weights: Arrays) -> None:
        with self._call():
            for name in self.names:
                self.params.set(self.net, name, self._to_nd(self.manager, weights[name]))

    def loss_at(self, name: str, value: np.ndarray) -> float:
        with self._call():
            self.params.set(self.net, name, self._to_nd(self.manager, value))
            loss = float(self.probe.loss(self.net, self.X, self.Y, self.state).getDouble())
            self.params.set(self.net, name, self._to_nd(self.manager, self.weights[name]))
        return loss

    def _named(self, arrays) -> Arrays:
        from djl_bridge.jvm.convert import to_numpy

        return {n: to_numpy(a) for n, a in zip(self.names, arrays)}

    def autograd(self) -> Arrays:
        with self._call():
            return self._named(self.probe.autograd(self.net, self.X, self.Y, self.state))

    def hand(self) -> Arrays:
        with self._call():
            return self._named(self.probe.hand(self.net, self.X, self.Y, self.state))

    def close(self) -> None:
        with self._call():
            self.manager.close()


def _problem_data(model: str, p: Problem, rng: np.random.Generator):
    net = build_model(model, p.vocab, p.hidden, 1, p.bias, p.learn_boundary)
    weights = {n: rng.normal(0.0, WEIGHT_SCALE, tuple(t.shape)) for n, t in zip(net.param_names, net.params)}
    X = rng.integers(0, p.vocab, (p.batch, p.steps), dtype=np.int32)
    Y = rng.integers(0, p.vocab, (p.batch, p.steps), dtype=np.int32)
    n_states = 2 if model == "lstm-scratch" else 1
    if model == "birnn-hand":
        state = None if p.from_boundary else [rng.normal(0.0, WEIGHT_SCALE, (p.batch, p.hidden))]
    elif p.from_boundary:
        state = [np.zeros((p.batch, p.hidden)) for _ in range(n_states)]
    else:
        state = [rng.normal(0.0, WEIGHT_SCALE, (p.batch, p.hidden)) for _ in range(n_states)]
    return weights, X, Y, state


def run(model: str, seed: int = 0, sides: tuple[str, ...] = SIDES) -> list[Row]:
    """Every check of ``model`` on ``sides``; one row per (side, check, parameter), worst over problems."""
    if model not in MODELS:
        raise ValueError(f"gradcheck covers {', '.join(MODELS)}; got {model!r}")
    unknown = set(sides) - set(SIDES)
    if unknown or not sides:
        raise ValueError(f"sides must be among {', '.join(SIDES)}; got {', '.join(sides) or 'none'}")
    hand = model == "birnn-hand"
    worst: dict[tuple[str, str, str], float] = {}

    def note(side: str, check: str, errors: dict[str, float]) -> None:
        for name, err in errors.items():
            key = (side, check, name)
            worst[key] = max(worst.get(key, 0.0), err)

    for k, p in enumerate(HAND_PROBLEMS if hand else SCRATCH_PROBLEMS):
        weights, X, Y, state = _problem_data(model, p, np.random.default_rng((seed, k)))
        python = _PythonSide(model, p, weights, X, Y, state)
        torch_grads = python.autograd()
        if "python" in sides:
            grads = python.hand() if hand else torch_grads
            if hand:
                note("python", "hand-vs-autograd", {n: relative_error(grads[n], torch_grads[n]) for n in grads})
            note(
                "python",
                "finite-diff",
                finite_difference_errors(grads, weights, python.loss_at, np.random.default_rng((seed, k, 0))),
            )
        if "java" in sides:
            java = _JavaSide(model, p, weights, X, Y, state)
            try:
                djl_grads = java.autograd()
                if hand:
                    grads = java.hand()
                    note("java", "hand-vs-autograd", {n: relative_error(grads[n], djl_grads[n]) for n in grads})
                else:
                    grads = djl_grads
                    note("java", "djl-vs-torch", {n: relative_error(grads[n], torch_grads[n]) for n in grads})
                note(
                    "java",
                    "finite-diff",
                    finite_difference_errors(grads, weights, java.loss_at, np.random.default_rng((seed, k, 1))),
                )
            finally:
                java.close()
    rows = [Row(side, check, name, err) for (side, check, name), err in worst.items()]
    return sorted(rows, key=lambda r: (SIDES.index(r.side), list(THRESHOLDS).index(r.check)))


def table(rows: list[Row]) -> list[str]:
    """The rows as aligned text lines, with a header."""
    cells = [["side", "check", "parameter", "worst error", "threshold", ""]] + [
        [r.side, r.check, r.param, f"{r.error:.2e}", f"{r.threshold:.0e}", "ok" if r.ok else "FAIL"] for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(cells[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in cells]


def verdict(rows: list[Row]) -> str:
    bad = [r for r in rows if not r.ok]
    if bad:
        return "FAIL: " + ", ".join(f"{r.side} {r.check} {r.param} {r.error:.2e} > {r.threshold:.0e}" for r in bad)
    worst = {c: max(r.error for r in rows if r.check == c) for c in THRESHOLDS if any(r.check == c for r in rows)}
    return (
        "PASS: every parameter within its threshold (worst " + ", ".join(f"{c} {e:.2e}" for c, e in worst.items()) + ")"
    )
