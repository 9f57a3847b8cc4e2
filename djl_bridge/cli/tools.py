"""`djl-parity setup`, `doctor`, `gradcheck` and `bench`."""

from __future__ import annotations

import json
import sys

import click

from djl_bridge.cli.errors import InputError, SetupFailure, checked_ints
from djl_bridge.cli.options import config, data_option


@click.command()
@click.option("--force", is_flag=True, help="Rebuild even when the jar is up to date.")
@click.option("--verbose", is_flag=True, help="Show Maven's output.")
def setup(force: bool, verbose: bool) -> None:
    """Build the Java side (java/) with Maven; a no-op when nothing changed."""
    from djl_bridge.jvm.build import build
    from djl_bridge.jvm.runtime import BridgeSetupError, java_dir

    try:
        ran = build(force=force, quiet=not verbose)
    except BridgeSetupError as exc:
        raise SetupFailure(str(exc)) from None
    click.echo(f"java side {'built' if ran else 'up to date'}: {java_dir() / 'target'}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@data_option("Text file to check instead of the usual resolution (DJL_PARITY_DATA, cache).")
def doctor(as_json: bool, data: str | None) -> None:
    """Check every part the tool needs; exit 3 when a required one is missing."""
    from djl_bridge import doctor as doc

    checks = doc.run_checks(data)
    report = doc.as_json(checks)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        for c in checks:
            mark = "ok  " if c.ok else ("FAIL" if c.required else "--  ")
            click.echo(f"{mark} {c.name:<15} {c.detail}")
        click.echo("all required parts present" if report["ok"] else "some required parts are missing")
    sys.exit(0 if report["ok"] else 3)


@click.command()
@click.option(
    "--model",
    type=click.Choice(["birnn-hand", "rnn-scratch", "gru-scratch", "lstm-scratch"]),
    default="birnn-hand",
    show_default=True,
)
@click.option("--side", type=click.Choice(["both", "python", "java"]), default="both", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random problems.")
def gradcheck(model: str, side: str, seed: int) -> None:
    """Check a scratch model's training gradients in float64 on random small problems.

    \b
    birnn-hand: hand-derived gradients against autograd (PyTorch; DJL's GradientCollector).
    rnn/gru/lstm-scratch: DJL's GradientCollector against PyTorch autograd on the port.
    All: central finite differences at a few entries of every parameter, on each side.
    Prints the worst relative error per parameter; exit 1 when one exceeds its threshold.
    """
    from djl_bridge.gradcheck import problems as gc_problems
    from djl_bridge.gradcheck import run as gc
    from djl_bridge.jvm import BridgeSetupError

    checked_ints(("--seed", seed, 0))
    sides = gc_problems.SIDES if side == "both" else (side,)
    try:
        rows = gc.run(model, seed, sides)
    except BridgeSetupError as exc:
        raise SetupFailure(str(exc)) from None
    click.echo(f"gradcheck {model}: float64, random problems (seed {seed}), {' and '.join(sides)}")
    for line in gc.table(rows):
        click.echo(line)
    click.echo(gc.verdict(rows))
    sys.exit(0 if all(r.ok for r in rows) else 1)


@click.command()
@click.option("--epochs", type=int, default=4, show_default=True, help="Measured epochs per row, after the warm-up.")
@click.option("--warmup", type=int, default=1, show_default=True, help="Epochs per row not counted.")
@click.option("--hidden", type=int, default=256, show_default=True)
@click.option("--layers", type=int, default=2, show_default=True)
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--num-steps", type=int, default=35, show_default=True)
@click.option("--max-tokens", type=int, default=10000, show_default=True)
@click.option(
    "--rows",
    default=None,
    help="Comma-separated rows to run [all: baseline, python-parity, python-fast, djl-pytorch, djl-mxnet; "
    "baseline-cuda, python-parity-cuda, python-fast-cuda where CUDA is present].",
)
@click.option(
    "--sides",
    is_flag=True,
    help="Also time compare's two sides one after the other and concurrently "
    "(rows sides-sequential, sides-concurrent).",
)
@click.option("--no-interleave", is_flag=True, help="Run each row's epochs together instead of round by round.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="Write a bar chart (PNG) here.")
@click.option(
    "--profile",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also profile one epoch of python-fast (torch.profiler) and draw where its time goes here (PNG).",
)
@data_option()
def bench(
    rows: str | None, sides: bool, no_interleave: bool, as_json: bool, plot: str | None, profile: str | None, **run
) -> None:
    """Training speed of the baseline, the port, DJL (CPU, and CUDA when present) in one run.

    \b
    Every row trains the notebook's bi-LSTM from the same data; rows in this process take turns
    epoch by epoch, each Java side runs whole in a worker process. Reports the median tokens/s
    after the warm-up, ratios between rows, each row's share of the fp32 matmul peak measured in
    the same run, and each worker's start and transfer costs. Progress goes to stderr.
    """
    from pathlib import Path

    from djl_bridge.bench import report as b_report
    from djl_bridge.bench.rows import select_rows
    from djl_bridge.bench.run import run_bench
    from djl_bridge.outputs import OutputDirError, check_png_path

    epochs, warmup = run["epochs"], run.pop("warmup")
    checked_ints(("--epochs", epochs, 1), ("--warmup", warmup, 0))
    try:
        selected = select_rows(rows.split(",") if rows else None, sides)
        for flag, path in (("--plot", plot), ("--profile", profile)):
            if path is not None:
                check_png_path(Path(path), flag)
    except (ValueError, OutputDirError) as exc:
        raise InputError(str(exc)) from None
    cfg, data_file = config(dict(model="bilstm", offset=0, **run))
    say = lambda m: click.echo(m, err=True)  # noqa: E731
    result = run_bench(cfg, data_file, selected, epochs, warmup, not no_interleave, say, profile and Path(profile))
    click.echo(json.dumps(result, indent=2) if as_json else "\n".join(b_report.table(result)))
    if plot is not None:
        b_report.plot(result, Path(plot))
        click.echo(f"wrote {plot}", err=True)
