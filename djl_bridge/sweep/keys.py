"""What makes a finished job's result reusable: a key over its inputs.

The key of a job is a SHA-256 over its command and arguments (as the spec entry expands to,
without --out and --data), its CPU threads, the SHA-1 of its notebook file, the code version and
the data's SHA-1. The code version is a SHA-256 over the files of the installed ``djl_bridge``
package (its sources and data files such as the calibrated envelope) and the Java side's
``pom.xml`` and ``src/``: it needs no git, and any edit to the code that runs makes new keys.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import djl_bridge
from djl_bridge.data import sha1_of
from djl_bridge.jvm.runtime import java_dir
from djl_bridge.sweep.spec import Job


def _files(folder: Path) -> Iterable[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


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


def job_key(job: Job, code: str, data_sha1: str) -> str:
    """The key (16 hex digits) of ``job``'s inputs: equal keys, equal runs."""
    inputs = {
        "command": job.command,
        "args": list(job.args),
        "cpus": job.cpus,
        "notebook_sha1": sha1_of(job.notebook) if job.notebook else None,
        "code": code,
        "data_sha1": data_sha1,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]
