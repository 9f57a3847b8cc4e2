"""The `djl-parity` command line: parse, call, print. The work lives in the modules it calls."""

from __future__ import annotations

import json
import sys

import click

from djl_bridge import __version__


class InputError(click.ClickException):
    """Bad input: one line on stderr, exit code 2, nothing written."""

    exit_code = 2


class SetupFailure(click.ClickException):
    """A missing or broken part of the environment: exit code 3."""

    exit_code = 3


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="djl-parity")
def main() -> None:
    """Run D2L's Java bi-RNN notebook on PyTorch and on real DJL, and compare them number by number.

    \b
    Typical use:
      djl-parity setup            build the Java side (Maven), seconds when up to date
      djl-parity doctor           check Python, torch, Java, DJL, libtorch and the data file
      djl-parity train --impl python|djl   run the notebook on one side
      djl-parity compare          run both sides from the same start and report the differences

    Exit codes: 0 success, 1 a comparison found an unexplained difference, 2 bad input,
    3 a missing or broken part of the environment.
    """


@main.command()
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


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option("--data", type=click.Path(dir_okay=False), default=None,
              help="Text file to check instead of the usual resolution (DJL_PARITY_DATA, cache).")
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
            click.echo(f"{mark} {c.name:<11} {c.detail}")
        click.echo("all required parts present" if report["ok"] else "some required parts are missing")
    sys.exit(0 if report["ok"] else 3)
