"""`djl-parity notebook`: parse, call the flow, print, exit."""

from __future__ import annotations

import sys

import click

from djl_bridge.cli.errors import InputError, SetupFailure, checked_ints
from djl_bridge.cli.options import data_option, out_option
from djl_bridge.cli.progress import print_table


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--engine",
    type=click.Choice(["auto", "pytorch", "mxnet"]),
    default="auto",
    show_default=True,
    help="Engine side: auto picks what the notebook's %maven lines pin (DJL 0.23 + MXNet: mxnet).",
)
@click.option(
    "--utils",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of the helpers the cells %load (default: resolved beside the notebook).",
)
@click.option("--epochs", type=int, default=None, help="MAX_EPOCH for the notebook [its own default].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds DJL's engine before the first cell.")
@click.option(
    "--patch",
    "patches",
    multiple=True,
    metavar="NAME",
    help="Apply a documented source patch (keep-stop-gradient, bilstm-layout, rnn-activation); repeatable.",
)
@click.option("--no-compare", is_flag=True, help="Only run the notebook.")
@data_option("The Time Machine text served for the notebook's data URL [$DJL_PARITY_DATA, cache, download].")
@click.option(
    "--data-file",
    "data_files",
    multiple=True,
    metavar="URL=PATH",
    help="Serve PATH for the D2L data URL the notebook opens (checked by SHA-1; e.g. fra-eng.zip); repeatable.",
)
@out_option("runs/notebook", "report.json, report.md, report.html, notebook.json, perplexity.png and figure-CELL-N.png")
def notebook(
    path: str,
    engine: str,
    utils: str | None,
    epochs: int | None,
    seed: int,
    patches: tuple[str, ...],
    no_compare: bool,
    data: str | None,
    data_files: tuple[str, ...],
    out: str,
) -> None:
    """Run a d2l-java notebook (.ipynb, or a .java/.jsh cell file) unchanged in JShell, then compare it with the port.

    \b
    The cells run in order in the Java side's JVM: %load lines are resolved, %maven and
    %%loadFromPOM artifacts other than DJL's are resolved by Maven (cached) onto the shell's class
    path, the kernel's display is stood in for (every figure shown is kept and drawn), the D2L
    data URLs are served from verified local files, MAX_EPOCH comes from --epochs. A failing cell
    is reported at its cell and line, with its named cause when it is a known failure.

    Exit codes: 0 PASS (or the notebook ran, with --no-compare); 1 FAIL, or the notebook failed
    without a known cause (with --no-compare: failed at all); 2 bad notebook or input; 3 missing
    environment (an artifact Maven cannot resolve, a data URL not served); 4 INCOMPLETE (the
    notebook fails by a known cause, whose --patch is named, or a stage could not be compared).
    """
    from pathlib import Path

    from djl_bridge.config import JAVA_INT_MIN
    from djl_bridge.data import DataError, resolve_data_file, supplied_data_file
    from djl_bridge.jvm import BridgeSetupError
    from djl_bridge.notebook.cells import NotebookError
    from djl_bridge.notebook.resolve import DependencyError
    from djl_bridge.notebook.session import prepare
    from djl_bridge.outputs import OutputDirError, check_out_dir

    checked_ints(("--seed", seed, JAVA_INT_MIN), *([("--epochs", epochs, 1)] if epochs is not None else []))
    try:
        served = dict(supplied_data_file(option) for option in data_files)
        prepared = prepare(Path(path), engine, Path(utils) if utils else None, list(patches), not no_compare)
        data_file = resolve_data_file(data)
        check_out_dir(Path(out))
    except (NotebookError, DataError, OutputDirError) as exc:
        raise InputError(str(exc)) from None
    except DependencyError as exc:
        raise SetupFailure(str(exc)) from None
    for note in prepared.notes:
        click.echo(f"note: {note}", err=True)
    for diff in prepared.diffs:
        click.echo(diff, err=True, nl=False)
    try:
        result = run_notebook(prepared, data_file, epochs, seed, not no_compare, Path(out), served)
    except BridgeSetupError as exc:
        raise SetupFailure(str(exc)) from None
    sys.exit(result)


def _notebook_event(event: dict) -> None:
    """A worker's notebook event on the terminal: cell output as printed, the animator's points on stderr (a
    notebook whose code does not compile says so in one line: nothing is printed before its first cell runs)."""
    kind = event.get("event")
    if kind == "output":
        click.echo(event["text"], nl=False)
    elif kind == "running":
        for metric, epoch, value in event["points"]:
            click.echo(f"  animator: epoch {epoch:g}  {metric} {value:.4g}", err=True)


def run_notebook(prepared, data_file, epochs, seed, compare_it: bool, out, served=None) -> int:
    """Run the notebook on its engine side, report how it failed or compare it, write the outputs; the exit code."""
    from djl_bridge.data import unserved
    from djl_bridge.flows.notebook import notebook_report
    from djl_bridge.notebook.cells import where
    from djl_bridge.notebook.outputs import write_notebook_outputs
    from djl_bridge.notebook.session import diagnose_failure, execute_on_side

    result, environment = execute_on_side(prepared, data_file, epochs, seed, _notebook_event, served)
    result = diagnose_failure(result, prepared.plan)
    f = result.failure
    if f is not None and f.kind in ("compile", "incomplete", "unresolved"):
        raise InputError(f.one_line())  # the notebook's code is not valid Java: bad input
    if f is not None and result.refused:  # a data file the run does not have: the environment
        raise SetupFailure(f"{where(f.cell, f.origin, f.line)}: {unserved(result.refused[0])}")
    if f is not None:
        click.echo(f"error: {f.one_line()}", err=True)
    if not compare_it:
        write_notebook_outputs(result, None, prepared, out)
        return 1 if f else 0
    click.echo("comparing with the PyTorch port ...", err=True)
    report = notebook_report(prepared, result, data_file, seed, environment, lambda m: click.echo(m, err=True))
    print_table(report)
    write_notebook_outputs(result, report, prepared, out)
    click.echo(f"report: {out / 'report.html'} (also report.md, report.json, notebook.json)")
    return report.exit_code
