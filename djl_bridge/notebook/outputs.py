"""The files of one notebook run: notebook.json (what ran, what was substituted or patched, what it
printed and plotted, how it failed), perplexity.png (the animator's points, drawn at the end) and,
when compared, the parity reports; written whole or not at all."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from djl_bridge.outputs import staged_outputs, write_json
from djl_bridge.parity.report import Report, write_report_files

SCHEMA = "djl-parity/notebook/1"


def write_notebook_outputs(run, report: Report | None, prepared, out: Path) -> None:
    from djl_bridge.plots import plot_perplexity

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
                "notes": prepared.notes,
                "patches": prepared.diffs,
                "failure": asdict(run.failure) if run.failure else None,
                "training": [{"cell": c.cell, "args": c.args, "printed": c.printed} for c in run.training],
                "animator": [{"metric": m, "epoch": e, "value": v} for m, e, v in run.points],
                "displays": run.displays,
            },
        )
        series: dict[str, list[tuple[float, float]]] = {}
        for metric, epoch, value in run.points:
            series.setdefault(metric, []).append((epoch, value))
        if series:
            epochs = sorted({e for pts in series.values() for e, _ in pts})
            plot_perplexity(
                [int(e) for e in epochs],
                {m: [v for _, v in pts] for m, pts in series.items()},
                stage / "perplexity.png",
            )
        if report is not None:  # the parity reports, beside the notebook's files
            write_report_files(report, stage)
