"""`djl-parity sweep`: parse, call the sweep, print, exit."""

from __future__ import annotations

import sys

import click

from djl_bridge.cli.errors import InputError, SetupFailure
from djl_bridge.cli.options import data_option


def _parse_job(command: str, argv: list[str]) -> dict:
    """A sweep job's arguments parsed by its command, nothing run: the parameters with their defaults."""
    try:
        root = click.get_current_context().find_root().command
        with root.commands[command].make_context(command, list(argv)) as ctx:
            return dict(ctx.params)
    except click.ClickException as exc:
        raise ValueError(exc.format_message()) from None


def _rerun_option(f):
    from djl_bridge.sweep.outcomes import INTERRUPTED, SEVERITY

    choices = [o for o in SEVERITY if o != INTERRUPTED]
    return click.option(
        "--rerun",
        multiple=True,
        type=click.Choice(choices),
        metavar="OUTCOME",
        help=f"Run again the jobs whose recorded outcome is OUTCOME ({', '.join(choices)}); repeatable.",
    )(f)


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Sweep folder; a re-run into it resumes  [default: runs/sweep/SPEC-NAME]",
)
@click.option(
    "--address",
    default=None,
    help="Run on this existing Ray cluster (its head's HOST:PORT, as `ray start --head` prints it, or auto) "
    "instead of a local Ray instance the command starts and stops.",
)
@click.option(
    "--cpus",
    type=click.IntRange(min=1),
    default=None,
    help="CPUs of the local Ray instance  [default: all of this machine's]",
)
@_rerun_option
@click.option(
    "--list", "list_only", is_flag=True, help="Print each job's command line, as the sweep runs it; run nothing."
)
@data_option("The Time Machine text every job reads [$DJL_PARITY_DATA, cache, download].")
def sweep(
    spec: str, out: str | None, address: str | None, cpus: int | None, rerun: tuple[str, ...], list_only: bool, data
):
    """Run a TOML matrix of compare, notebook and train jobs as Ray tasks, resumably, into one index.

    \b
    Each job is the command a user could run alone, in its own process group with its own
    folder OUT/jobs/NAME, and declares its CPU threads (the spec's cpus, default 1) to Ray. A
    finished job's result is kept at once; a re-run skips every job whose inputs (spec entry,
    code version, data SHA-1) have one. A crashed or timed-out job is run once more.
    Writes OUT/sweep.json and OUT/sweep.html. The spec's format: docs/sweep.md.

    \b
    Job outcomes, least to most severe, and the sweep's exit code when it is the worst:
      PASS 0, INCOMPLETE 4, FAIL 1, BAD-INPUT 2, ENV-MISSING 3, TIMED-OUT 5, CRASHED 6
    Also: 2 bad spec or --out, 3 Ray missing or unreachable, 130/143 interrupted (the finished
    jobs' results and the index are kept; the same command resumes).
    """
    import os
    from pathlib import Path

    from djl_bridge.data import DataError, resolve_data_file
    from djl_bridge.signals import Interrupted
    from djl_bridge.sweep.folder import FolderError
    from djl_bridge.sweep.index import headline
    from djl_bridge.sweep.ray_runner import RayUnavailable, require_ray
    from djl_bridge.sweep.run import Options, command_lines, run_sweep
    from djl_bridge.sweep.spec import SpecError, load_spec

    out_dir = Path(out) if out else Path("runs", "sweep", Path(spec).stem)
    try:
        loaded = load_spec(Path(spec), _parse_job)
        data_file = resolve_data_file(data)
    except (SpecError, DataError) as exc:
        raise InputError(str(exc)) from None
    if list_only:
        click.echo("\n".join(command_lines(loaded, out_dir, data_file)))
        return
    try:
        require_ray()
        cpus = cpus or len(os.sched_getaffinity(0))
        summary = run_sweep(loaded, Options(out_dir, data_file, address, cpus, rerun))
    except (SpecError, FolderError) as exc:
        raise InputError(str(exc)) from None
    except RayUnavailable as exc:
        raise SetupFailure(str(exc)) from None
    except Interrupted as exc:  # the finished jobs are kept: this line, not main's "nothing written"
        sys.stdout.flush()
        click.echo(f"djl-parity: sweep stopped by {exc}; the finished jobs' results and the index are in "
                   f"{out_dir}; the same command resumes", err=True)  # fmt: skip
        sys.stderr.flush()
        os._exit(128 + exc.signum)
    click.echo(headline(summary.index))
    click.echo(f"index: {summary.html_path} (also sweep.json)")
    sys.exit(summary.index["exit_code"])
