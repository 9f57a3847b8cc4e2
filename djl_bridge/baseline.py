"""The notebook's model and loop as a PyTorch user would write them: the reference for speed.

Nothing here follows DJL: ``nn.LSTM`` + ``nn.Linear`` with PyTorch's own initialisation,
``F.cross_entropy``, ``clip_grad_norm_`` and ``optim.SGD``. It is the same model as the port's
``RNNModel`` (one-hot input, time-major recurrent layer, a linear head over every step), so its
tokens/s are what the port and DJL are measured against (``djl-parity bench``, row ``baseline``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn


class CharLSTM(nn.Module):
    """One-hot characters -> (bi)LSTM -> a linear layer to the vocabulary, for every time step."""

    def __init__(self, vocab_size: int, hidden: int, layers: int, bidirectional: bool = True) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.lstm = nn.LSTM(vocab_size, hidden, layers, bidirectional=bidirectional)
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), vocab_size)

    def forward(
        self, tokens: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """``tokens`` (batch, steps) -> logits (steps * batch, vocab) in time-major order, new state."""
        inputs = F.one_hot(tokens.T.long(), self.vocab_size).float()
        outputs, state = self.lstm(inputs, state)
        return self.head(outputs.reshape(-1, outputs.shape[-1])), state


def train_epoch(
    model: CharLSTM,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    optimizer: torch.optim.Optimizer,
    clip: float = 1.0,
) -> tuple[float, int]:
    """One epoch over consecutive batches (the state carries over, detached); (perplexity, tokens)."""
    model.train()
    state = None
    total_loss, tokens = 0.0, 0
    for X, Y in batches:
        if state is not None:
            state = tuple(s.detach() for s in state)
        logits, state = model(X, state)
        loss = F.cross_entropy(logits, Y.T.reshape(-1).long())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        total_loss += loss.item() * Y.numel()
        tokens += Y.numel()
    return math.exp(total_loss / tokens), tokens


def train(
    model: CharLSTM, dataset, lr: float, epochs: int, device: torch.device | str = "cpu"
) -> list[tuple[float, float]]:
    """Train ``epochs`` epochs on ``dataset`` (anything with ``batches(device)``); (perplexity, tokens/s) each."""
    model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        start = time.perf_counter()
        ppl, tokens = train_epoch(model, dataset.batches(device), optimizer)
        history.append((ppl, tokens / (time.perf_counter() - start)))
    return history
