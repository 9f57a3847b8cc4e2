"""The `djl-parity` command line: parse, call a flow, print, exit. The work lives in the modules it calls."""

from __future__ import annotations

import sys

import click

from djl_bridge import __version__
from djl_bridge.cli import notebook, run, sweep, tools
from djl_bridge.cli.errors import one_line


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="djl-parity")
def cli() -> None:
    """Run D2L's Java bi-RNN notebook on PyTorch and on real DJL, and compare them number by number.

    \b
    Typical use:
      djl-parity setup            build the Java side (Maven), seconds when up to date
      djl-parity doctor           check Python, torch, Java, DJL, libtorch and the data file
      djl-parity train --impl python|djl   run the notebook on one side
      djl-parity compare          run both sides from the same start and report the differences
      djl-parity gradcheck        check a scratch model's gradients (hand, autograd, finite differences)
      djl-parity notebook PATH    run a d2l-java notebook unchanged in JShell and compare it
      djl-parity bench            training speed: baseline, the port, DJL, in one run
      djl-parity sweep SPEC       a TOML matrix of the commands above as Ray tasks, with one index

    \b
    Exit codes:
      0    success (compare: PASS)
      1    compare: FAIL (a stage differs beyond its bound, or without a named cause);
           train: the Java side failed (its root cause is printed);
           gradcheck: a gradient error above its threshold
      2    bad input: one line on stderr, nothing written
      3    a missing or broken part of the environment (Java, the Maven build, an engine library)
      4    compare: INCOMPLETE (some stage could not be compared; the headline says which and how)
      130  interrupted by Ctrl-C (SIGINT); 143: terminated (SIGTERM); nothing written
    """


for command in (tools.setup, tools.doctor, run.train, run.compare, notebook.notebook, tools.gradcheck, tools.bench):
    cli.add_command(command)
cli.add_command(sweep.sweep)


def main() -> None:
    """The `djl-parity` program: the commands above, with interrupts and exit codes scripts can trust."""
    import os

    from djl_bridge.concurrency import passive_openmp_waits
    from djl_bridge.data import cache_dir
    from djl_bridge.signals import Interrupted, install

    passive_openmp_waits()
    os.environ.setdefault("MPLCONFIGDIR", str(cache_dir() / "matplotlib"))  # not ~/.config: nothing outside --out
    interrupts = install()
    code: int | str | None = 0
    try:
        cli.main(prog_name="djl-parity", standalone_mode=False)
    except click.UsageError as exc:  # one line, as every other bad input
        where = exc.ctx.command_path if exc.ctx is not None else "djl-parity"
        click.echo(f"Error: {one_line(exc.format_message())} (see '{where} --help')", err=True)
        code = exc.exit_code
    except click.ClickException as exc:
        if not interrupts.received:
            exc.show()
            code = exc.exit_code
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.Abort:
        code = 1
    except SystemExit as exc:
        code = exc.code
    except Interrupted:
        pass
    except Exception:
        if not interrupts.received:
            raise
    if interrupts.received:
        # a Java call may have turned the interrupt into its own exception: the signal decides
        sys.stdout.flush()
        sys.stderr.write(f"djl-parity: stopped by {interrupts.name}; no output was written\n")
        sys.stderr.flush()
        os._exit(interrupts.exit_code)  # not the JVM's exit sequence: nothing runs under DJL's shutdown hook
    sys.exit(code)
