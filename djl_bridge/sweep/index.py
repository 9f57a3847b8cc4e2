"""The sweep's index, sweep.json: a row per job of the spec, counts per outcome, the worst outcome and exit code.

A job's row is its result record (``results/KEY.json``, written as the job ended) with ``ran``:
whether this invocation ran it (false: an earlier run's result was reused). A job that has no
result because the sweep was interrupted is INTERRUPTED.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from djl_bridge.sweep import outcomes
from djl_bridge.sweep.jobs import Attempt
from djl_bridge.sweep.spec import Job, Spec

SCHEMA = "djl-parity/sweep/1"
RECORD_SCHEMA = "djl-parity/sweep-job/1"


def _job_fields(job: Job, key: str) -> dict:
    return {
        "name": job.name,
        "key": key,
        "command": job.command,
        "args": list(job.args),
        "subject": job.subject,
        "engine": job.engine,
        "labels": dict(job.labels),
        "cpus": job.cpus,
        "timeout_s": job.timeout_s,
    }


def job_record(job: Job, key: str, attempts: list[Attempt], out: Path) -> dict:
    """The result of a finished job (its last attempt decides), with paths relative to the sweep folder."""
    last = attempts[-1]
    report = last.summary.get("report")
    return {
        "schema": RECORD_SCHEMA,
        **_job_fields(job, key),
        "outcome": last.outcome,
        "exit_code": last.exit_code,
        "detail": last.detail,
        "headline": last.summary.get("headline", ""),
        "first_divergence": last.summary.get("first_divergence", ""),
        "out": f"jobs/{job.name}",
        "report": f"jobs/{job.name}/{report}" if report else None,
        "wall_s": round(sum(a.wall_s for a in attempts), 3),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "attempts": [{**dataclasses.asdict(a), "log": _relative(a.log, out)} for a in attempts],
    }


def _relative(path: str, out: Path) -> str:
    p = Path(path)
    return str(p.relative_to(out)) if p.is_relative_to(out) else path


def unfinished_row(job: Job, key: str, signame: str) -> dict:
    """The row of a job that has no result: the sweep was stopped by ``signame`` before it ended."""
    return {
        **_job_fields(job, key),
        "outcome": outcomes.INTERRUPTED,
        "exit_code": None,
        "detail": f"the sweep was stopped by {signame} before this job ended; a re-run runs it",
        "headline": "",
        "first_divergence": "",
        "out": None,
        "report": None,
        "wall_s": 0.0,
        "attempts": [],
        "ran": False,
    }


def build_index(spec: Spec, rows: list[dict], context: dict, interrupted_by: int | None) -> dict:
    """sweep.json: the rows in the spec's order, counts per outcome, the worst outcome and the exit code."""
    counts = Counter(r["outcome"] for r in rows)
    worst = outcomes.worst(counts)
    code = 128 + interrupted_by if interrupted_by else outcomes.EXIT_CODES[worst]
    return {
        "schema": SCHEMA,
        "spec": str(spec.path),
        "root": str(spec.root),
        "outcome": worst,
        "exit_code": code,
        "counts": {o: counts[o] for o in outcomes.SEVERITY if counts[o]},
        "jobs_total": len(rows),
        "jobs_ran": sum(r["ran"] for r in rows),
        "jobs_reused": sum(not r["ran"] and r["outcome"] != outcomes.INTERRUPTED for r in rows),
        **context,
        "outcome_order": list(outcomes.SEVERITY),
        "jobs": rows,
    }


def headline(index: dict) -> str:
    """The sweep's last line: the worst outcome, the counts, what ran and what was reused, the wall time."""
    counts = ", ".join(f"{o} {n}" for o, n in index["counts"].items())
    return (
        f"{index['outcome']}: {index['jobs_total']} jobs ({counts}); {index['jobs_ran']} ran, "
        f"{index['jobs_reused']} reused; {index['wall_s']:.1f} s"
    )
