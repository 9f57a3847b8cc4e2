"""The notebook's ``TimeMachineDataset`` and DJL's batch samplers, with a ``java.util.Random``."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import torch

_MULT, _ADD, _MASK = 0x5DEECE66D, 0xB, (1 << 48) - 1


class JavaRandom:
    """``java.util.Random`` (48-bit LCG): same seed, same ``nextInt(bound)`` stream as the JVM."""

    def __init__(self, seed: int | None = None) -> None:
        self.set_seed(secrets.randbits(64) if seed is None else seed)

    def set_seed(self, seed: int) -> None:
        self._seed = (seed ^ _MULT) & _MASK

    def _next(self, bits: int) -> int:
        self._seed = (self._seed * _MULT + _ADD) & _MASK
        return self._seed >> (48 - bits)

    def next_int(self, bound: int) -> int:
        """Uniform in [0, bound), Java's algorithm including its rejection loop."""
        if bound <= 0:
            raise ValueError("bound must be positive")
        r = self._next(31)
        m = bound - 1
        if bound & m == 0:
            return (bound * r) >> 31
        u = r
        while u - (r := u % bound) + m >= 1 << 31:  # Java: int overflow makes this negative
            u = self._next(31)
        return r


def random_order(size: int, rng: JavaRandom) -> list[int]:
    """DJL ``RandomSampler``: swap i with ``nextInt(i)`` for i = size-1 .. 1 (j < i, so a cycle)."""
    order = list(range(size))
    for i in range(size - 1, 0, -1):
        j = rng.next_int(i)
        order[i], order[j] = order[j], order[i]
    return order


def batch_indices(order: list[int], batch_size: int) -> Iterator[list[int]]:
    """DJL ``BatchSampler`` without dropLast: full batches, then the last partial one."""
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


class TimeMachineDataset:
    """Records of ``num_steps`` tokens cut from ``batch_size`` parallel streams (docs/notebook.md, "Dataset").

    Record ``w * batch_size + r`` is window ``w`` of stream ``r``, so sequential batches continue
    each other row by row. ``offset`` defaults to ``JavaRandom(seed).next_int(num_steps)`` (the
    Java one is unseeded: pass the offset the JVM used for parity). The original only works with
    ``num_steps == 35`` (hard-coded record width); this port accepts any ``num_steps >= 1``.
    """

    def __init__(
        self,
        corpus: list[int],
        batch_size: int,
        num_steps: int,
        offset: int | None = None,
        random_sample: bool = False,
        seed: int | None = None,
    ) -> None:
        if batch_size < 1 or num_steps < 1:
            raise ValueError("batch_size and num_steps must be positive")
        self.rng = JavaRandom(seed)
        self.offset = self.rng.next_int(num_steps) if offset is None else offset
        if not 0 <= self.offset < len(corpus):
            raise ValueError(f"offset {self.offset} outside the corpus of {len(corpus)} tokens")
        self.batch_size, self.num_steps, self.random_sample = batch_size, num_steps, random_sample
        num_tokens = (len(corpus) - self.offset - 1) // batch_size * batch_size
        data = torch.tensor(corpus, dtype=torch.int32)
        xs = data[self.offset : self.offset + num_tokens].reshape(batch_size, -1)
        ys = data[self.offset + 1 : self.offset + 1 + num_tokens].reshape(batch_size, -1)
        self.num_batches = xs.shape[1] // num_steps
        if self.num_batches == 0:
            raise ValueError(
                f"batch_size={batch_size} x num_steps={num_steps} needs more than the "
                f"{len(corpus) - self.offset - 1} tokens available after offset {self.offset}"
            )
        width = self.num_batches * num_steps

        def records(a: torch.Tensor) -> torch.Tensor:
            a = a[:, :width].reshape(batch_size, self.num_batches, num_steps)
            return a.transpose(0, 1).reshape(-1, num_steps).contiguous()

        self.features, self.labels = records(xs), records(ys)

    def __len__(self) -> int:
        return self.features.shape[0]

    def batches(
        self, device: torch.device | str = "cpu", generator: JavaRandom | None = None
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of (X, Y) int32 batches; random order draws from ``generator`` or ``self.rng``."""
        order = random_order(len(self), generator or self.rng) if self.random_sample else list(range(len(self)))
        for idx in batch_indices(order, self.batch_size):
            index = torch.tensor(idx)
            yield self.features[index].to(device), self.labels[index].to(device)
