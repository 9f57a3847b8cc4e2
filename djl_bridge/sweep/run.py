"""A whole sweep: claim the folder, reuse the results whose inputs are unchanged, run the rest on Ray, index all.

Every finished job's result is written the moment it ends; the index (sweep.json, sweep.html) is
written at the end, and also when the sweep is interrupted (then the jobs without a result are
INTERRUPTED, and a re-run runs just those).
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from djl_bridge import signals
from djl_bridge.code_version import code_version
from djl_bridge.data import DATA_SHA1
from djl_bridge.signals import Interrupted
from djl_bridge.sweep import folder, outcomes
from djl_bridge.sweep.index import build_index, job_record, unfinished_row
from djl_bridge.sweep.jobs import Request, environment, job_arguments
from djl_bridge.sweep.keys import job_key
from djl_bridge.sweep.page import to_html
from djl_bridge.sweep.progress import Progress
from djl_bridge.sweep.ray_runner import ray_session, run_jobs
from djl_bridge.sweep.spec import Job, Spec, SpecError


@dataclass(frozen=True)
class Options:
    out: Path
    data: Path
    address: str | None  # None: a local Ray instance with ``cpus`` CPUs
    cpus: int
    rerun: tuple[str, ...] = ()  # outcomes whose recorded results are run again


@dataclass(frozen=True)
class Summary:
    index: dict
    json_path: Path
    html_path: Path


def request(job: Job, out: Path, data: Path) -> Request:
    """The first attempt at ``job`` in the sweep folder ``out``."""
    argv = job_arguments(job.command, job.args, folder.job_dir(out, job.name), data)
    return Request(job.name, argv, job.cpus, job.timeout_s, str(folder.job_dir(out, job.name)),
                   str(folder.log_prefix(out, job.name)), str(out))  # fmt: skip


def command_lines(spec: Spec, out: Path, data: Path) -> list[str]:
    """Each job as a shell command line, exactly as the sweep runs it (``--list``)."""
    lines = []
    for job in spec.jobs:
        env = environment(job.cpus)
        threads = " ".join(f"{k}={env[k]}" for k in ("OMP_NUM_THREADS", "DJL_PARITY_THREADS"))
        lines.append(f"{threads} djl-parity {shlex.join(request(job, out.resolve(), data).argv)}")
    return lines


def check_cpus(jobs: Iterable[Job], available: float, where: str) -> None:
    """Refuse a job that declares more CPUs than any node has: Ray would wait for it forever."""
    for job in jobs:
        if job.cpus > available:
            raise SpecError(f"{job.name} declares {job.cpus} CPUs; {where} has {available:g}")


def run_sweep(spec: Spec, opts: Options, progress: Progress | None = None) -> Summary:
    """Run ``spec``'s jobs that have no result yet and write the index; an interrupt still writes it, then rises."""
    if opts.address is None:
        check_cpus(spec.jobs, opts.cpus, f"the local Ray instance (--cpus {opts.cpus})")
    out = opts.out.resolve()
    resumed = folder.check(out)
    code = code_version()
    keys = {job.name: job_key(job, code, DATA_SHA1) for job in spec.jobs}
    rows: dict[str, dict] = {}
    for job in spec.jobs:
        record = folder.read_result(out, keys[job.name]) if resumed else None
        if record is not None and record.get("outcome") not in opts.rerun:
            rows[job.name] = {**record, "ran": False}
    todo = [job for job in spec.jobs if job.name not in rows]
    progress = progress or Progress(len(spec.jobs), len(rows))
    reused = f"; {len(rows)} reused from earlier runs" if resumed else ""
    progress.note(f"{len(spec.jobs)} jobs{reused}; {len(todo)} to run; folder {out}")
    context = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "code_version": code,
               "data_sha1": DATA_SHA1, "ray": None}  # fmt: skip
    t0 = time.perf_counter()
    try:
        if todo:
            context["ray"] = _run_on_ray(todo, keys, out, opts, rows, progress, create=not resumed)
    except Interrupted as exc:
        progress.close()
        if out.is_dir():
            context["wall_s"] = round(time.perf_counter() - t0, 3)
            _write_index(spec, keys, rows, context, exc.signum, out)
        raise
    progress.close()
    context["wall_s"] = round(time.perf_counter() - t0, 3)
    return _write_index(spec, keys, rows, context, None, out)


def _run_on_ray(
    todo: list[Job], keys: dict, out: Path, opts: Options, rows: dict, progress: Progress, create: bool
) -> dict:
    """Run ``todo`` (creating the folder once Ray is up); each result is written and added to ``rows`` as its
    job ends. Where they ran and what Ray cost."""
    by_name = {job.name: job for job in todo}

    def heard(kind: str, req: Request, *args) -> None:
        if kind == "start":
            progress.start(req, *args)
        elif kind == "attempt":
            progress.attempt(req, *args)
        else:
            record = job_record(by_name[req.name], keys[req.name], args[0], out)
            folder.write_result(out, keys[req.name], record)
            rows[req.name] = {**record, "ran": True}
            progress.done(rows[req.name])

    with signals.deferred() as check_interrupts, ray_session(opts.address, opts.cpus) as stats:
        check_cpus(todo, stats.node_cpus, f"the largest node of Ray at {stats.address}")
        progress.note(f"Ray ({stats.address}): {stats.cpus:g} CPUs, started in {stats.start_s:.1f} s")
        check_interrupts()  # one that came while Ray started: before any folder or job
        if create:
            folder.create(out)
        run_jobs([request(job, out, opts.data) for job in todo], heard, check_interrupts)
    return dataclasses.asdict(stats)


def _write_index(spec: Spec, keys: dict, rows: dict, context: dict, interrupted_by: int | None, out: Path) -> Summary:
    signame = outcomes.signal_name(interrupted_by) if interrupted_by else ""
    ordered = [rows.get(job.name) or unfinished_row(job, keys[job.name], signame) for job in spec.jobs]
    index = build_index(spec, ordered, context, interrupted_by)
    json_path, html_path = out / "sweep.json", out / "sweep.html"
    folder.write_whole(json_path, json.dumps(index, indent=2) + "\n")
    folder.write_whole(html_path, to_html(index))
    return Summary(index, json_path, html_path)
