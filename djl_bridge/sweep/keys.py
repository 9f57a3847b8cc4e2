"""What makes a finished job's result reusable: a key over its inputs.

The key of a job is a SHA-256 over its command and arguments (as the spec entry expands to,
without --out and --data), its CPU threads, the SHA-1 of its notebook file, the code version and
the data's SHA-1, with the code version of ``djl_bridge/code_version.py``.
"""

from __future__ import annotations

import hashlib
import json

from djl_bridge.data import sha1_of
from djl_bridge.sweep.spec import Job


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
