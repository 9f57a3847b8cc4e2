"""Java numbers as DJL's PyTorch engine hands them to libtorch.

``NDArray.mul(2)`` or ``.add(1f)`` in Java wraps the number in a 0-d tensor of its Java type
(``manager.create``) on the array's device, and libtorch's type promotion then decides the
arithmetic. The port reproduces an operation bit for bit by passing the same 0-d tensor.
"""

from __future__ import annotations

import torch

JAVA_TYPES = {"int": torch.int32, "float": torch.float32, "double": torch.float64}


def java_scalar(value: int | float, like: torch.Tensor, java_type: str | None = None) -> torch.Tensor:
    """``manager.create(value)`` on ``like``'s device. ``java_type`` is "int", "float" or
    "double"; without it a Python int is a Java int and a Python float a Java double."""
    if java_type is None:
        java_type = "int" if isinstance(value, int) else "double"
    return torch.tensor(value, dtype=JAVA_TYPES[java_type], device=like.device)
