"""libtorch's grad mode around Java calls: DJL's resting mode (off) for Java, Python's own mode afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def djl_grad_mode(shared: bool) -> Iterator[None]:
    """Give Java libtorch's grad mode as DJL keeps it (off), and give Python its own back afterwards.

    libtorch's grad mode is per thread, and Java and Python share one libtorch and (through JPype)
    one thread. DJL's engine turns grad mode off when it loads and its GradientCollector turns it
    on only while collecting, so DJL code (the scratch SGD's in-place update) relies on it being
    off; PyTorch code relies on it being on. ``shared``: the JVM runs the ``pytorch`` engine, which
    shares a libtorch with Python's torch when this process imported torch (the tests' in-process JVM;
    a worker never imports torch, and there this does nothing).
    """
    import sys

    if not shared or "torch" not in sys.modules:
        yield
        return
    import torch  # the policy requires it; its grad mode is the shared libtorch's

    python_mode = torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    try:
        yield
    finally:
        torch.set_grad_enabled(python_mode)
