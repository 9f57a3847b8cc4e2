"""Port runs kept on disk, so a repeated comparison reuses them instead of training again.

A port run is deterministic given everything it depends on, and the key holds all of it: the
request (config, initial weights, fed batches, what to record; ``wire.digest``), the text's SHA-1,
the code version (``code_version.py``), torch's version and the thread count (libtorch's kernels may
sum in another order with other threads). A stale entry cannot be found under a new key. Entries
live in ``$XDG_CACHE_HOME/djl-parity/runs/KEY`` (``~/.cache`` by default), one wire message each
(tens of MB at the notebook's size); delete the folder to drop them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from djl_bridge.code_version import code_version
from djl_bridge.data import cache_dir, sha1_of
from djl_bridge.sides import wire
from djl_bridge.trace import Request

#: Turns the cache off when set to 0 (the command line's ``--no-cache`` sets it).
CACHE_ENV = "DJL_PARITY_CACHE"


def enabled() -> bool:
    return os.environ.get(CACHE_ENV, "1") != "0"


def key(request: Request, what: str) -> str:
    """The key of ``what`` (a trace, an envelope) computed from ``request``."""
    import torch

    inputs = {
        "what": what,
        "request": wire.digest(request),
        "data_sha1": sha1_of(Path(request.data)),
        "code": code_version(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    return wire.digest(inputs)[:24]


def _folder(k: str) -> Path:
    return cache_dir() / "runs" / k


def load(k: str, kind: type) -> Any | None:
    """The entry under ``k`` rebuilt as ``kind``, or None (no entry, caching off, or an unreadable one)."""
    folder = _folder(k)
    if not enabled() or not (folder / "value.json").is_file():
        return None
    try:
        return wire.rebuild(kind, wire.read(folder, "value"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(k: str, value: Any) -> None:
    """Keep ``value`` under ``k``, written whole (a staging folder moved into place) or not at all."""
    if not enabled():
        return
    target = _folder(k)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{k}.", dir=target.parent))
    try:
        wire.write(stage, "value", value)
        os.rename(stage, target)
    except OSError:  # another run kept the same entry meanwhile: it is the same value
        pass
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def cached(k: str, kind: type, compute: Callable[[], Any]) -> tuple[Any, bool]:
    """The value under ``k``, or ``compute()`` kept there; and whether it came from the cache."""
    found = load(k, kind)
    if found is not None:
        return found, True
    value = compute()
    store(k, value)
    return value, False
