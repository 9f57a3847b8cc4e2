"""The sweep folder: made with djl-parity's run marker, one result file per finished job, files written whole.

Layout: ``.djl-parity-run`` (the marker of every folder djl-parity writes), ``results/KEY.json``
(one per finished job, written as soon as it ends), ``jobs/NAME/`` (each job's own --out),
``logs/NAME.N.log`` (attempt N's output), ``sweep.json`` and ``sweep.html`` (the index).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from djl_bridge.outputs import OutputDirError, check_out_dir, read_marker, staged_outputs

SUBFOLDERS = ("results", "jobs", "logs")


class FolderError(ValueError):
    """The sweep folder cannot be used: one line."""


def check(out: Path) -> bool:
    """Whether ``out`` is an earlier sweep's folder to resume (True), or one this sweep may create (False).

    A folder whose marker says a sweep wrote it is resumed (and never replaced); anything else
    follows the rules of every command's ``--out`` (``outputs.check_out_dir``), else FolderError.
    """
    marker = read_marker(out) if out.is_dir() else None
    command = marker.get("command") if marker else None
    if isinstance(command, list) and command[1:2] == ["sweep"]:
        return True
    try:
        check_out_dir(out)
    except OutputDirError as exc:
        raise FolderError(str(exc)) from None
    return False


def create(out: Path) -> None:
    """Create the sweep folder whole, with its marker and its empty results, jobs and logs folders."""
    with staged_outputs(out) as stage:
        for sub in SUBFOLDERS:
            (stage / sub).mkdir()


def write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file beside it: the old file or the new, never half."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def result_path(out: Path, key: str) -> Path:
    return out / "results" / f"{key}.json"


def read_result(out: Path, key: str) -> dict | None:
    """A finished job's result record, or None when its inputs have none."""
    try:
        return json.loads(result_path(out, key).read_text())
    except (OSError, ValueError):
        return None


def write_result(out: Path, key: str, record: dict) -> None:
    write_whole(result_path(out, key), json.dumps(record, indent=2) + "\n")


def job_dir(out: Path, name: str) -> Path:
    return out / "jobs" / name


def log_prefix(out: Path, name: str) -> Path:
    return out / "logs" / name
