"""What a command shows while it works and when it ends: per-epoch progress, the stage table."""

from __future__ import annotations

import contextlib
import sys

import click


class EpochProgress:
    """Per-epoch progress on stderr: a bar on a terminal, one line per epoch in a log (stderr not a tty)."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.bar = total, label, None
        self.tty = sys.stderr.isatty()

    def __call__(self, epoch: int, ppl: float, speed: float) -> None:
        status = f"ppl {ppl:.2f}  {speed:,.0f} tok/s"
        if not self.tty:
            click.echo(f"{self.label.strip()}: epoch {epoch}/{self.total}  {status}", err=True)
            return
        if self.bar is None:
            self.bar = click.progressbar(
                length=self.total, label=self.label, file=sys.stderr, show_pos=True, item_show_func=lambda s: s
            )
            self.bar.__enter__()
        self.bar.update(1, status)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@contextlib.contextmanager
def closing(*bars):
    try:
        yield
    finally:
        for bar in bars:
            bar.close()


def print_table(report) -> None:
    """The stage table and the verdict line on stdout."""
    from djl_bridge.parity.render import stage_rows

    rows = stage_rows(report)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    click.echo(report.verdict())
