"""The files of one notebook run: notebook.json (what ran, what was substituted or patched, what it
printed and plotted, how it failed), perplexity.png (the animator's points, drawn at the end), one
``figure-<cell>-<n>.png`` per figure the notebook showed and, when compared, the parity reports;
written whole or not at all."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from djl_bridge.notebook.recorded import RecordedLoop
from djl_bridge.notebook.result import NotebookResult
from djl_bridge.outputs import staged_outputs, write_json
from djl_bridge.parity.render import write_report_files
from djl_bridge.parity.report import Report

SCHEMA = "djl-parity/notebook/2"


def write_notebook_outputs(run: NotebookResult, report: Report | None, prepared, out: Path) -> None:
    from djl_bridge.notebook.figures import file_names, png_bytes
    from djl_bridge.plots import plot_perplexity

    names = file_names(run.figures)
    with staged_outputs(out) as stage:
        write_json(
            stage / "notebook.json",
            {
                "schema": SCHEMA,
                "notebook": str(prepared.plan.notebook),
                "engine": prepared.engine,
                "cells": prepared.plan.cells,
                "units": [{"cell": u.cell, "origin": u.origin} for u in prepared.plan.units],
                "maven": [str(m) for m in prepared.plan.maven],
                "dependencies": [str(m) for m in prepared.plan.dependencies],
                "classpath": [a.coordinate for a in prepared.plan.classpath.artifacts],
                "notes": prepared.notes,
                "patches": prepared.diffs,
                "failure": asdict(run.failure) if run.failure else None,
                "snippets": [asdict(s) for s in run.snippets],
                "loops": [_loop_summary(loop) for loop in run.loops],
                "behaviours": run.behaviours,
                "animator": [{"metric": m, "epoch": e, "value": v} for m, e, v in run.points],
                "displays": run.displays,
                "figures": [{"file": name, **f.to_dict()} for name, f in zip(names, run.figures)],
            },
        )
        for name, f in zip(names, run.figures):
            (stage / name).write_bytes(png_bytes(f))
        curves = _perplexity_curves(run.points)
        if curves:
            longest = max(curves.values(), key=len)
            series = {name: [v for _, v in pts] for name, pts in curves.items()}
            plot_perplexity([int(e) for e, _ in longest], series, stage / "perplexity.png")
        if report is not None:  # the parity reports, beside the notebook's files
            write_report_files(report, stage)


def _perplexity_curves(points: list[tuple[str, float, float]]) -> dict[str, list[tuple[float, float]]]:
    """The chapter-8 animators' ``ppl`` points, one curve per training call (its epochs start again)."""
    curves: list[list[tuple[float, float]]] = []
    for metric, epoch, value in points:
        if metric == "ppl":
            if not curves or epoch <= curves[-1][-1][0]:
                curves.append([])
            curves[-1].append((epoch, value))
    if len(curves) == 1:
        return {"ppl": curves[0]}
    return {f"ppl, training {i}": c for i, c in enumerate(curves, 1)}


def _loop_summary(loop: RecordedLoop) -> dict:
    """A recorded loop in notebook.json: where it ran, its parameters, its steps and epochs (no arrays)."""
    return {
        "cell": loop.cell,
        "origin": loop.origin,
        "line": loop.line,
        "parameters": dict(zip(loop.names, [list(s) for s in loop.shapes])),
        "steps": len(loop.losses),
        "epoch_starts": loop.epoch_starts,
        "epochs_from": loop.epochs_from,
        "carried": [bool(c) for c in loop.carried],
        "losses": [float(x) for x in loop.losses],
    }
