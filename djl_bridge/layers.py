"""What every model of the notebooks shares: the recurrent state's type and the one-hot, time-major input."""

from __future__ import annotations

import torch
import torch.nn.functional as F

State = list[torch.Tensor]


def one_hot_time_major(X: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """(batch, steps) indices -> (steps, batch, vocab) float32, as DJL's transpose + oneHot."""
    return F.one_hot(X.T.long(), vocab_size).float()
