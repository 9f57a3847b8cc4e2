"""Output folders that are whole or absent: files are staged beside the target and moved in at the end."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


class OutputDirError(ValueError):
    """The output folder cannot be written."""


def check_writable(out_dir: Path) -> None:
    """Fail early (before any work) when ``out_dir`` cannot be created or written."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputDirError(f"--out {out_dir} exists and is not a folder")
    probe = out_dir
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputDirError(f"--out {out_dir} is not writable ({probe} denies writing)")


@contextlib.contextmanager
def staged_outputs(out_dir: Path) -> Iterator[Path]:
    """Yield a staging folder; on success it replaces ``out_dir`` whole, on failure nothing is left."""
    check_writable(out_dir)
    out_dir = out_dir.resolve()
    parent = out_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=parent))
    try:
        yield stage
        if not out_dir.exists():
            os.rename(stage, out_dir)
            return
        # replace the earlier run's folder whole: never a mix of two runs' files
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.replaced-", dir=parent))
        os.rename(out_dir, old / out_dir.name)
        os.rename(stage, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
