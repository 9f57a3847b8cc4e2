"""The port's side of the gradient checks: autograd, the hand step and the loss in float64."""

from __future__ import annotations

import numpy as np
import torch

from djl_bridge.gradcheck.problems import Arrays, Problem
from djl_bridge.models import build_model
from djl_bridge.training import loss_fn


class PythonSide:
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
