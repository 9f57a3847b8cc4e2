"""`djl-parity train` and `djl-parity compare`: parse, call the flow, print, exit."""

from __future__ import annotations

import sys

import click

from djl_bridge.cli.errors import InputError, checked_ints, failure_line, preflight, side_errors
from djl_bridge.cli.options import checked_out_dir, config, engine_option, out_option, run_options
from djl_bridge.cli.progress import EpochProgress, closing, print_table


@click.command()
@click.option(
    "--impl",
    type=click.Choice(["python", "djl"]),
    required=True,
    help="python: the PyTorch port; djl: the Java helpers on real DJL through JPype.",
)
@engine_option("pytorch")
@out_option("runs/train", "metrics.json and perplexity.png")
@run_options(epochs=500)
def train(impl: str, engine: str, out: str, **kwargs) -> None:
    """Train the notebook's model on one side and print the notebook's final lines.

    Writes OUT/metrics.json (config, per-epoch perplexity and tokens/s, every step's loss,
    vocabulary, offset, the printed lines) and OUT/perplexity.png (the animator's curve), whole or
    not at all. The Java side runs in a worker process on the chosen engine.
    """
    from djl_bridge.flows.train import train as run_train
    from djl_bridge.flows.train import write_run

    cfg, data = config(kwargs, sides=1)
    if engine == "mxnet" and cfg.layout_fix:
        raise InputError("--layout-fix is for DJL's PyTorch engines; on MXNet the notebook's bi-LSTM runs as published")
    out_dir = checked_out_dir(out)
    if impl == "djl":
        preflight(engine)
    progress = EpochProgress(cfg.epochs, f"{impl} {cfg.model}" + (f" ({engine})" if engine != "pytorch" else ""))
    with side_errors(), closing(progress):
        trace = run_train(impl, engine, cfg, data, progress)
    if trace.failure is not None:
        raise click.ClickException(f"the Java side failed: {failure_line(trace.failure, engine)}")
    for line in trace.printed:
        click.echo(line)
    for dev in trace.deviations:
        click.echo(f"deviation: {dev}", err=True)
    write_run(impl, cfg, trace, out_dir)
    click.echo(f"wrote {out_dir / 'metrics.json'} and {out_dir / 'perplexity.png'}", err=True)


@click.command()
@click.option(
    "--init",
    type=click.Choice(["java", "python"]),
    default="java",
    show_default=True,
    help="Side whose initial weights are drawn and moved exactly to the other.",
)
@click.option(
    "--full-steps",
    type=int,
    default=1,
    show_default=True,
    help="Steps recorded in full (logits, state, gradients, parameters); every step's loss and gradient norms are "
    "always compared.",
)
@out_option("runs/compare", "report.json, report.md and report.html")
@click.option(
    "--concurrent",
    is_flag=True,
    help="Train the two sides at once (two processes), each with half the CPU threads.",
)
@engine_option("mxnet")
@run_options(epochs=5)
def compare(init: str, full_steps: int, out: str, concurrent: bool, engine: str, **kwargs) -> None:
    """Run the notebook on DJL and on the PyTorch port from one start; compare every stage.

    \b
    By default: the notebook cell as its readers ran it (the bi-LSTM on DJL 0.23 + MXNet 1.9), 5
    epochs. Stages: cleaned lines, tokens, vocabulary, corpus, batches, initial parameters, the
    first step in full (logits, state, loss, gradients, gradient norm, clipped gradients, updated
    parameters), every step's loss, gradient norm and per-parameter squared gradient sums, every
    epoch's perplexity, the final parameters, the printed perplexity and the two predictions. On
    one engine every float stage must be identical unless a named cause bounds it
    (djl_bridge/parity/divergences.py); across engines each is judged against this run's own
    envelope (the port against itself from last-bit-nudged weights, and in fast mode with each batch's rows reversed).

    \b
    Outcome (the last line, and `outcome` in report.json):
      PASS        every stage compared: identical, within a measured bound, or explained (exit 0)
      FAIL        a stage differs beyond its bound or without a named cause (exit 1)
      INCOMPLETE  some stage could not be compared; the line names them, why, and the option
                  that compares them (exit 4)
    Both sides run on the CPU; the Java side in a worker process.
    """
    from djl_bridge.flows.compare import compare as run_compare
    from djl_bridge.parity.render import write_report

    checked_ints(("--full-steps", full_steps, 0))
    cfg, data = config(kwargs)
    out_dir = checked_out_dir(out)
    preflight(engine)
    bars: dict[str, EpochProgress] = {}

    def epoch_done(side: str, epoch: int, ppl: float, speed: float) -> None:
        if concurrent:  # two sides report at once: one line each, no bars to overwrite each other
            click.echo(f"  {side} epoch {epoch}/{cfg.epochs}  ppl {ppl:.2f}  {speed:,.0f} tok/s", err=True)
            return
        bars.setdefault(side, EpochProgress(cfg.epochs, f"  {side}"))(epoch, ppl, speed)
        if epoch == cfg.epochs:
            bars[side].close()

    say = lambda m: click.echo(m, err=True)  # noqa: E731
    with side_errors(), closing(*bars.values()):
        report = run_compare(cfg, data, engine, init, full_steps, concurrent, say, epoch_done)
    print_table(report)
    write_report(report, out_dir)
    click.echo(f"report: {out_dir / 'report.html'} (also report.md, report.json)")
    sys.exit(report.exit_code)
