"""What the benchmark measures besides the rows: the machine's matmul peak and the model's FLOPs per token."""

from __future__ import annotations

import time

import torch


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def flops_per_token(vocab_size: int, hidden: int, layers: int, bidirectional: bool = True) -> float:
    """Forward plus backward FLOPs per token of the (bi)LSTM language model as written (one-hot input
    matmul included): 2 FLOPs per multiply-add, backward twice the forward."""
    dirs = 2 if bidirectional else 1
    forward = 0.0
    for layer in range(layers):
        inputs = vocab_size if layer == 0 else hidden * dirs
        forward += dirs * 2 * 4 * hidden * (inputs + hidden)
    forward += 2 * hidden * dirs * vocab_size
    return 3 * forward


def matmul_peak(device: str, n: int = 2048, repeats: int = 5) -> float:
    """Best fp32 matmul rate (FLOP/s) of ``n``³ products on ``device``, with this process's threads."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    best = float("inf")
    for _ in range(repeats + 1):
        sync(device)
        t0 = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best
