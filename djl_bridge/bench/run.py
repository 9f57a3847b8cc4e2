"""`djl-parity bench`: training speed of every side on one config, in one run.

Rows that run in this process (the baseline and the port) are interleaved: each round runs one
epoch of every row (the order rotates), so load from other processes on a shared machine falls on
all rows alike. Rows of a Java side run whole in a worker at set-up and report their own epochs.
A row's figure is the median tokens/s of its epochs after the warm-up. Speeds are only compared as
ratios within the run; the run also measures the machine's fp32 matmul peak, so each row reports
the share of it that the model's arithmetic reaches, and each worker's start and transfer costs.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from djl_bridge.bench.measure import flops_per_token, matmul_peak
from djl_bridge.bench.report import ratios
from djl_bridge.bench.rows import JavaRunner, Row, Setting, SidesRunner
from djl_bridge.config import RunConfig
from djl_bridge.jvm.runtime import BridgeSetupError

Say = Callable[[str], None]


def _summary(seconds: list[float], tokens: list[int], warmup: int) -> dict[str, Any]:
    speeds = [t / s for s, t in zip(seconds, tokens)]
    steady = speeds[warmup:] or speeds
    return {
        "tokens_per_s": statistics.median(steady),
        "epoch_tokens_per_s": speeds,
        "spread": (max(steady) - min(steady)) / statistics.median(steady) if len(steady) > 1 else 0.0,
    }


def _remeasure_peak(result: dict[str, Any], devices: list[str]) -> None:
    """Measure the matmul peak again and keep the best (other processes make single measurements low)."""
    for d in devices:
        result["matmul_peak_GFLOPs"][d] = max(result["matmul_peak_GFLOPs"].get(d, 0.0), matmul_peak(d) / 1e9)


def _header(base: RunConfig, epochs: int, warmup: int, interleave: bool) -> dict[str, Any]:
    return {
        "schema": "djl-parity/bench/2",
        "config": base.as_dict(),
        "epochs": epochs,
        "warmup": warmup,
        "interleaved": interleave,
        "threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(libgomp default)"),
        "torch": torch.__version__,
        "load_average_1min": {"before": os.getloadavg()[0]},
        "rows": [],
        "skipped": [],
        "matmul_peak_GFLOPs": {},
    }


def _set_up(rows: list[Row], base: RunConfig, data: Path, total: int, result: dict, say: Say) -> dict[str, Any]:
    """Each runnable row's runner; rows that cannot run here are listed with the reason."""
    runners = {}
    for row in rows:
        reason = row.missing()
        if reason is None:
            say(f"set up {row.name}" + ("" if row.interleave else f" (runs its {total} epochs now)"))
            try:
                runners[row.name] = row.make(
                    Setting(replace(base, device=row.device, epochs=total, **row.overrides), data)
                )
            except BridgeSetupError as exc:  # a part of the environment this row needs is missing
                reason = str(exc)
        if reason is not None:
            say(f"skip {row.name}: {reason}")
            result["skipped"].append({"name": row.name, "reason": reason})
    return runners


def _epochs(rows: list[Row], runners: dict, total: int, interleave: bool, result: dict, say: Say) -> dict:
    """Every row's (seconds, tokens) per epoch: interleaved rounds first, then the rows that ran whole."""
    timed: dict[str, list[tuple[float, int]]] = {name: [] for name in runners}
    together = [r for r in rows if r.name in runners and r.interleave and interleave]
    devices = sorted({r.device for r in rows if r.name in runners})
    for round_ in range(total):
        shift = round_ % max(len(together), 1)
        for row in together[shift:] + together[:shift]:
            s, t = runners[row.name].epoch()
            timed[row.name].append((s, t))
            say(f"round {round_ + 1}/{total}  {row.name:<18} {t / s:>10,.0f} tokens/s")
        _remeasure_peak(result, devices)
    for row in (r for r in rows if r.name in runners and r not in together):
        for e in range(total):
            s, t = runners[row.name].epoch()
            timed[row.name].append((s, t))
            say(f"epoch {e + 1}/{total}  {row.name:<18} {t / s:>10,.0f} tokens/s")
    return timed


def _entry(row: Row, runner: Any, timed: list[tuple[float, int]], warmup: int, result: dict, per_token: float) -> dict:
    entry = {"name": row.name, "device": row.device, **_summary([s for s, _ in timed], [t for _, t in timed], warmup)}
    entry["peak_share"] = entry["tokens_per_s"] * per_token / (result["matmul_peak_GFLOPs"][row.device] * 1e9)
    if isinstance(runner, SidesRunner):
        entry["sides_seconds"] = runner.seconds
    if isinstance(runner, JavaRunner):
        result.setdefault("workers", {})[row.name] = runner.costs
    return entry


def run_bench(
    base: RunConfig,
    data: Path,
    rows: list[Row],
    epochs: int = 4,
    warmup: int = 1,
    interleave: bool = True,
    say: Say = lambda _m: None,
    profile: Path | None = None,
) -> dict[str, Any]:
    """Run ``rows`` for ``warmup + epochs`` epochs each; the result as a JSON-ready dict. With ``profile``,
    also profile one epoch of fast mode on the CPU (after one warm-up epoch) and draw it there."""
    base = base.resolved()
    result = _header(base, epochs, warmup, interleave)
    total = warmup + epochs
    runners = _set_up(rows, base, data, total, result, say)
    devices = sorted({r.device for r in rows if r.name in runners} | ({"cpu"} if profile else set()))
    say("measuring the fp32 matmul peak")
    _remeasure_peak(result, devices)
    timed = _epochs(rows, runners, total, interleave, result, say)
    if profile is not None:
        _profile(base, data, result, profile, say)
    _remeasure_peak(result, devices)
    result["load_average_1min"]["after"] = os.getloadavg()[0]
    from djl_bridge.text import load_corpus_time_machine

    vocab_size = len(load_corpus_time_machine(data, base.max_tokens)[1])
    per_token = flops_per_token(vocab_size, base.hidden, base.layers, base.model == "bilstm")
    result["model_flops_per_token"] = per_token
    result["rows"] = [
        _entry(r, runners[r.name], timed[r.name], warmup, result, per_token) for r in rows if r.name in runners
    ]
    result["ratios"] = ratios(result["rows"])
    return result


def _profile(base: RunConfig, data: Path, result: dict, path: Path, say: Say) -> None:
    from djl_bridge.bench.profile import plot_profile, profile_epoch
    from djl_bridge.bench.rows import PortRunner

    say("profiling one epoch of python-fast")
    runner = PortRunner(Setting(replace(base, device="cpu", mode="fast"), data))
    runner.epoch()
    result["profile"] = profile_epoch(runner, "cpu")
    _remeasure_peak(result, ["cpu"])
    plot_profile(
        result["profile"],
        result["matmul_peak_GFLOPs"]["cpu"],
        f"python-fast, one epoch: bi-LSTM {base.layers}x{base.hidden}, batch {base.batch_size}, "
        f"{base.num_steps} steps,\n{base.max_tokens} tokens, {torch.get_num_threads()} threads, "
        f"OMP_WAIT_POLICY {result['omp_wait_policy']}, load average {os.getloadavg()[0]:.1f}",
        path,
    )
