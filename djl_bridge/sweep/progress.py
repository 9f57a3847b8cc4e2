"""The sweep's progress on stderr: a line as each job starts and ends; on a terminal, a status line below them."""

from __future__ import annotations

import sys
from typing import TextIO

from djl_bridge.sweep.jobs import Attempt, Request


class Progress:
    """Counts the jobs as they start and end, and says so."""

    def __init__(self, total: int, cached: int, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.total, self.finished, self.running = total, cached, 0

    def _line(self, text: str) -> None:
        clear = "\r\x1b[K" if self.tty else ""
        self.stream.write(f"{clear}sweep: {text}\n")
        if self.tty:
            queued = self.total - self.finished - self.running
            self.stream.write(f"  {self.finished}/{self.total} done, {self.running} running, {queued} queued")
        self.stream.flush()

    def note(self, text: str) -> None:
        self._line(text)

    def start(self, req: Request, pid: int, host: str) -> None:
        self.running += 1
        again = " (second attempt)" if req.number > 1 else ""
        self._line(f"start {req.name}{again}: pid {pid} on {host}, {req.cpus} CPU")

    def attempt(self, req: Request, attempt: Attempt, retry: bool) -> None:
        self.running -= 1
        if retry:
            self._line(
                f"{attempt.outcome} {req.name} after {attempt.wall_s:.1f} s ({attempt.detail}); running it once more"
            )

    def done(self, record: dict) -> None:
        self.finished += 1
        said = record["first_divergence"] or record["detail"] or record["headline"]
        tries = f", {len(record['attempts'])} attempts" if len(record["attempts"]) > 1 else ""
        self._line(
            f"[{self.finished}/{self.total}] {record['outcome']} {record['name']} "
            f"({record['wall_s']:.1f} s{tries}){': ' + said if said else ''}"
        )

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
