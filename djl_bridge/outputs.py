"""Output folders: only the tool's own are replaced, and each is written whole or not at all.

Every folder a command writes carries a marker, :data:`MARKER`: a small JSON file with the
command that wrote it, a run id and the names of the files it wrote. An existing ``--out`` is
replaced only when it carries the marker and holds nothing else than what the marker lists; any
other folder, a file, and a folder that is or contains the current folder, the home folder or the
filesystem root, is refused before any work (:func:`check_out_dir`). Files are staged in a hidden
folder beside the target and moved in at the end (:func:`staged_outputs`); on failure or a signal
the staging folder goes and the old folder stays as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

MARKER = ".djl-parity-run"
MARKER_SCHEMA = "djl-parity/run-marker/1"


class OutputDirError(ValueError):
    """The output folder may not be written; the message says why and what to do instead."""


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _protected() -> list[tuple[str, Path]]:
    places = [("the filesystem root", Path("/")), ("your home folder", Path.home()), ("the current folder", Path.cwd())]
    return [(what, _real(p)) for what, p in places]


def read_marker(folder: Path) -> dict | None:
    """The marker of a folder djl-parity wrote, or None when it has none (or an unreadable one)."""
    try:
        doc = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("schema") == MARKER_SCHEMA else None


def _check_existing(out_dir: Path, shown: str) -> None:
    if not out_dir.is_dir():
        raise OutputDirError(f"--out {shown} exists and is not a folder; give a new folder for this run's files")
    marker = read_marker(out_dir)
    if marker is None:
        raise OutputDirError(
            f"--out {shown} exists and was not written by djl-parity (it has no {MARKER}); "
            "give a new folder, or move this one away yourself"
        )
    extra = sorted(set(os.listdir(out_dir)) - set(marker.get("files", [])) - {MARKER})
    if extra:
        raise OutputDirError(
            f"--out {shown} holds files djl-parity did not write ({', '.join(extra[:3])}"
            f"{', ...' if len(extra) > 3 else ''}); move them away or give a new folder"
        )


def check_out_dir(out_dir: Path) -> None:
    """Refuse, before any work, an ``--out`` this run may not replace (see the module's rules)."""
    shown = str(out_dir)
    real = _real(out_dir)
    for what, place in _protected():
        if real == place or real in place.parents:
            raise OutputDirError(
                f"--out {shown} is or contains {what} ({place}); djl-parity replaces its --out folder "
                "whole, so give a new folder for this run's files"
            )
    if out_dir.exists() or out_dir.is_symlink():
        _check_existing(out_dir, shown)
    probe = real
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise OutputDirError(f"--out {shown} cannot be made: {probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputDirError(f"--out {shown} is not writable ({probe} denies writing)")


def _write_marker(stage: Path) -> None:
    files = sorted(os.listdir(stage))
    doc = {
        "schema": MARKER_SCHEMA,
        "tool": "djl-parity",
        "command": ["djl-parity", *sys.argv[1:]],
        "run_id": uuid.uuid4().hex,
        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "files": files,
    }
    write_json(stage / MARKER, doc)


@contextlib.contextmanager
def staged_outputs(out_dir: Path) -> Iterator[Path]:
    """Yield a staging folder; on success it replaces ``out_dir`` whole (with its marker), on failure nothing is left.

    The rules of :func:`check_out_dir` are checked again just before the move, so a file a user
    put into the old folder meanwhile is never deleted.
    """
    check_out_dir(out_dir)
    out_dir = _real(out_dir)
    base = out_dir.parent  # the stage lives in the nearest existing folder: a failed run creates no folder
    while not base.exists():
        base = base.parent
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=base))
    try:
        yield stage
        _write_marker(stage)
        check_out_dir(out_dir)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        if not out_dir.exists():
            os.rename(stage, out_dir)
            return
        # replace the earlier run's folder whole: never a mix of two runs' files
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.replaced-", dir=out_dir.parent))
        os.rename(out_dir, old / out_dir.name)
        os.rename(stage, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def check_png_path(path: Path, option: str) -> None:
    """A picture the user names (``bench --plot``): its folder must exist, and an existing file there is
    replaced only when it is a PNG (a picture, as djl-parity writes them), never a user's other file."""
    if not path.parent.is_dir():
        raise OutputDirError(f"{option} {path}: folder {path.parent} does not exist")
    if path.exists() or path.is_symlink():
        try:
            with open(path, "rb") as f:
                head = f.read(len(PNG_MAGIC))
        except OSError as exc:
            raise OutputDirError(f"{option} {path}: exists and cannot be read ({exc.strerror})") from None
        if not path.is_file() or head != PNG_MAGIC:
            raise OutputDirError(f"{option} {path}: exists and is not a PNG picture; not replaced")


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
