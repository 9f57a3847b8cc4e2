"""The sweep folder: claimed with djl-parity's run marker, one result file per finished job, files written whole.

Layout: ``.djl-parity-run`` (the marker), ``results/KEY.json`` (one per finished job, written as
soon as it ends), ``jobs/NAME/`` (each job's own --out), ``logs/NAME.N.log`` (attempt N's
output), ``sweep.json`` and ``sweep.html`` (the index).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from djl_bridge.outputs import OutputDirError, check_writable

MARKER = ".djl-parity-run"


class FolderError(ValueError):
    """The sweep folder cannot be used: one line."""


def _read_marker(folder: Path) -> dict | None:
    """The marker of a folder djl-parity wrote, or None (until main's outputs module holds the helper)."""
    try:
        return json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None


def _refuse_unsafe(out: Path) -> None:
    for what, inside in (("the current directory", Path.cwd()), ("your home folder", Path.home())):
        if inside.resolve().is_relative_to(out):
            raise FolderError(f"--out {out} contains {what}; choose a folder of its own")


def check(out: Path) -> bool:
    """Whether ``out`` is an earlier sweep's folder to resume (True) or can be created (False); else FolderError."""
    _refuse_unsafe(out)
    try:
        check_writable(out)
    except OutputDirError as exc:
        raise FolderError(str(exc)) from None
    if not out.exists():
        return False
    marker = _read_marker(out)
    if marker is None:
        raise FolderError(f"--out {out} exists and has no {MARKER} marker: it is not a sweep folder; choose another")
    if marker.get("command") != "sweep":
        raise FolderError(f"--out {out} holds the output of `djl-parity {marker.get('command')}`, not a sweep")
    return True


def create(out: Path) -> None:
    """Create the sweep folder whole: its marker and empty results, jobs and logs folders."""
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    try:
        for sub in ("results", "jobs", "logs"):
            (stage / sub).mkdir()
        (stage / MARKER).write_text(json.dumps({"command": "sweep", "run_id": uuid.uuid4().hex}) + "\n")
        os.rename(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


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
