"""The version of the code that runs: a hash over the package's files and the Java sources, no git needed.

Any edit to the code that computes a result makes a new version, so results kept under a key that
holds it (a sweep's jobs, the port runs a comparison reuses) are never reused by other code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import djl_bridge
from djl_bridge.jvm.runtime import java_dir


def _files(folder: Path) -> Iterable[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


@cache
def code_version() -> str:
    """A SHA-256 (16 hex digits) over the package's files and the Java sources."""
    package = Path(djl_bridge.__file__).resolve().parent
    java = java_dir()
    digest = hashlib.sha256()
    for base, files in ((package, _files(package)), (java, [java / "pom.xml", *_files(java / "src")])):
        for path in files:
            if path.is_file():
                digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
