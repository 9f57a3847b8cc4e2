"""``birnn-hand``: a bidirectional RNN whose training step computes its gradients by hand.

Two tanh chains over the one-hot input, a forward one (``h``) and a backward one (``g``), meet
only at the output: ``q_t = h_t V + g_t V_r (+ b_q)``. Training never touches autograd: the
forward pass runs under ``torch.no_grad`` and backpropagation through time is written out, one
line per equation of ``docs/birnn-hand.md`` (cited as "eq. N"). The Java twin is
``org.djlparity.d2l.BiRnnHand``; both issue the same libtorch operations in the same order with
the same Java-typed scalars, so in float32 they agree to the bit.

Carried state: the forward chain continues from the previous batch's last ``h`` (detached), as
the notebook's sequential loop does; the first batch of an epoch starts from the boundary
``h_0``. The backward chain cannot see the next batch, so every batch starts it from the
boundary ``g_{T+1}``. Boundaries are the constant 0.5, or parameters initialised to 0.5
(``learn_boundary``); ``h_0`` gets a gradient only in a batch that starts from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from djl_bridge.javanum import java_scalar
from djl_bridge.layers import State, one_hot_time_major

BOUNDARY = 0.5
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class BiRnnHand(nn.Module):
    """One hidden layer per direction; ``bias`` adds b_h, b_r, b_q; ``learn_boundary`` makes
    h_0 and g_end (g_{T+1}, often written h'_{T+1}) parameters."""

    def __init__(self, vocab_size: int, hidden: int, bias: bool = False, learn_boundary: bool = False) -> None:
        super().__init__()
        self.vocab_size, self.hidden = vocab_size, hidden
        self.bias, self.learn_boundary = bias, learn_boundary
        shapes: dict[str, tuple[int, ...]] = {}
        for d in ("", "_r"):  # forward chain, then backward chain
            shapes |= {f"U{d}": (vocab_size, hidden), f"W{d}": (hidden, hidden)}
            if bias:
                shapes[f"b{d or '_h'}"] = (hidden,)
        shapes |= {"V": (hidden, vocab_size), "V_r": (hidden, vocab_size)}
        if bias:
            shapes["b_q"] = (vocab_size,)
        if learn_boundary:
            shapes |= {"h_0": (hidden,), "g_end": (hidden,)}
        self.param_names: list[str] = list(shapes)
        #: parameters that start at a constant instead of DJL's N(0, 0.01) / zeros
        self.initial_values = {"h_0": BOUNDARY, "g_end": BOUNDARY} if learn_boundary else {}
        for name, shape in shapes.items():
            self.register_parameter(name, nn.Parameter(torch.zeros(shape)))

    @property
    def params(self) -> list[torch.Tensor]:
        return [getattr(self, n) for n in self.param_names]

    def _p(self, name: str) -> torch.Tensor | None:
        return getattr(self, name) if name in self.param_names else None

    def _boundary(self, name: str, batch: int, device: torch.device | str) -> torch.Tensor:
        """(batch, hidden) copies of a boundary: the constant, or 0 + the learned vector."""
        dtype = self.U.dtype
        if not self.learn_boundary:
            return torch.full((batch, self.hidden), BOUNDARY, dtype=dtype, device=device)
        return torch.zeros(batch, self.hidden, dtype=dtype, device=device).add(getattr(self, name))

    def begin_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        return [self._boundary("h_0", batch_size, device)]

    def _chains(self, x: torch.Tensor, h_start: torch.Tensor):
        """Both chains and the logits over the (steps, batch, vocab) one-hot ``x``."""
        U, W, b_h, U_r, W_r, b_r = (self._p(n) for n in ("U", "W", "b_h", "U_r", "W_r", "b_r"))
        T, B = x.shape[0], x.shape[1]
        hs, h = [], h_start
        for t in range(T):  # eq. 1
            a = x[t] @ U + h @ W
            h = torch.tanh(a if b_h is None else a + b_h)
            hs.append(h)
        g_end = self._boundary("g_end", B, x.device)
        gs: list[torch.Tensor] = [g_end] * T
        g = g_end
        for t in reversed(range(T)):  # eq. 2
            c = x[t] @ U_r + g @ W_r
            g = torch.tanh(c if b_r is None else c + b_r)
            gs[t] = g
        N = T * B
        H2 = torch.stack(hs).reshape(N, self.hidden)
        G2 = torch.stack(gs).reshape(N, self.hidden)
        q = H2 @ self.V + G2 @ self.V_r  # eq. 3
        if self.bias:
            q = q + self.b_q
        return hs, gs, g_end, H2, G2, q

    def _one_hot(self, X: torch.Tensor) -> torch.Tensor:
        return one_hot_time_major(X, self.vocab_size).to(self.U.dtype)

    @torch.no_grad()
    def forward(self, X: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Logits (steps*batch, vocab), time-major rows, and the forward chain's last state."""
        hs, _, _, _, _, q = self._chains(self._one_hot(X), state[0])
        return q, [hs[-1]]

    def logits_with_autograd(self, X: torch.Tensor, state: State) -> torch.Tensor:
        """The same forward pass, recorded by autograd (for the gradient checks only)."""
        return self._chains(self._one_hot(X), state[0])[-1]

    @torch.no_grad()
    def hand_step(
        self, X: torch.Tensor, y: torch.Tensor, state: State, from_boundary: bool, loss_fn: LossFn
    ) -> tuple[torch.Tensor, State, torch.Tensor]:
        """Forward pass, loss, and every parameter's ``.grad`` set to its hand-derived gradient
        (replacing, never accumulating). ``y`` holds the targets in the logits' row order;
        ``from_boundary`` says that ``state`` is the boundary h_0 (not a carried state)."""
        x = self._one_hot(X)
        h_start = state[0]
        hs, gs, g_end, H2, G2, q = self._chains(x, h_start)
        loss = loss_fn(q, y)
        grads = self.gradients(x, y, h_start, hs, gs, g_end, H2, G2, q, from_boundary)
        for p, g in zip(self.params, grads):
            p.grad = g
        return q, [hs[-1]], loss

    def gradients(self, x, y, h_start, hs, gs, g_end, H2, G2, q, from_boundary: bool) -> list[torch.Tensor]:
        """dL/dparam for every parameter, in ``param_names`` order (docs/birnn-hand.md)."""
        T, B, Vn = x.shape
        N, Hn = T * B, self.hidden
        W, W_r = self.W, self.W_r
        one = java_scalar(1.0, q, "float")  # the 1 of eq. 9 and 14, a Java float
        delta = q.softmax(1).sub(F.one_hot(y.long(), Vn).to(q.dtype)).div(java_scalar(N, q))  # eq. 5
        delta3 = delta.reshape(T, B, Vn)  # eq. 5: delta_t is block t
        grads = {
            "V": H2.transpose(1, 0) @ delta,  # eq. 6
            "V_r": G2.transpose(1, 0) @ delta,  # eq. 6
        }
        if self.bias:
            grads["b_q"] = delta.sum(0)  # eq. 7
        # forward chain, t = T .. 1
        alphas: list[torch.Tensor] = [delta] * T  # eq. 9, filled below
        carry = None  # eq. 8: no alpha_{T+1}
        for t in reversed(range(T)):
            eps = delta3[t] @ self.V.transpose(1, 0)  # eq. 8
            if carry is not None:
                eps = eps + carry  # eq. 8
            alphas[t] = eps * hs[t].mul(hs[t]).neg().add(one)  # eq. 9
            carry = alphas[t] @ W.transpose(1, 0)  # eq. 8 (the next step's share), eq. 12
        dh_start = carry  # eq. 12, before the sum over the batch
        A = torch.stack(alphas).reshape(N, Hn)  # eq. 10-11: all alpha_t as rows
        X2 = x.reshape(N, Vn)  # eq. 10, 15: all x_t as rows
        H_prev = torch.stack([h_start, *hs[:-1]]).reshape(N, Hn)  # eq. 11: h_{t-1}
        grads["U"] = X2.transpose(1, 0) @ A  # eq. 10
        grads["W"] = H_prev.transpose(1, 0) @ A  # eq. 11
        if self.bias:
            grads["b_h"] = A.sum(0)  # eq. 10
        # backward chain, t = 1 .. T
        betas: list[torch.Tensor] = [delta] * T  # eq. 14, filled below
        carry = None  # eq. 13: no beta_0
        for t in range(T):
            zeta = delta3[t] @ self.V_r.transpose(1, 0)  # eq. 13
            if carry is not None:
                zeta = zeta + carry  # eq. 13
            betas[t] = zeta * gs[t].mul(gs[t]).neg().add(one)  # eq. 14
            carry = betas[t] @ W_r.transpose(1, 0)  # eq. 13 (the next step's share), eq. 17
        Bt = torch.stack(betas).reshape(N, Hn)  # eq. 15-16: all beta_t as rows
        G_next = torch.stack([*gs[1:], g_end]).reshape(N, Hn)  # eq. 16: g_{t+1}
        grads["U_r"] = X2.transpose(1, 0) @ Bt  # eq. 15
        grads["W_r"] = G_next.transpose(1, 0) @ Bt  # eq. 16
        if self.bias:
            grads["b_r"] = Bt.sum(0)  # eq. 15
        if self.learn_boundary:
            dh0 = dh_start.sum(0)  # eq. 12
            grads["h_0"] = dh0 if from_boundary else torch.zeros_like(dh0)  # eq. 12: a carried state is a constant
            grads["g_end"] = carry.sum(0)  # eq. 17
        return [grads[n] for n in self.param_names]


@torch.no_grad()
def causal_perplexity(net: BiRnnHand, batches, device: torch.device | str = "cpu") -> float:
    """Perplexity of the trained model read the way prediction reads it: one token at a time, the
    forward chain carried, the backward chain seeing only the current token (it has no future)."""
    total, count, state = 0.0, 0, None
    for X, Y in batches:
        X, Y = X.to(device), Y.to(device)
        if state is None:
            state = net.begin_state(X.shape[0], device)
        for t in range(X.shape[1]):
            q, state = net(X[:, t : t + 1], state)
            total += float(F.cross_entropy(q.double(), Y[:, t].long(), reduction="sum"))
            count += X.shape[0]
    return math.exp(total / count)
