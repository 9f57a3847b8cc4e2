"""What a notebook run sends back from its worker: plain data (``sides/wire.py`` carries it), no shell."""

from __future__ import annotations

from dataclasses import dataclass, field

from djl_bridge.notebook.cells import where
from djl_bridge.notebook.figures import Figure
from djl_bridge.notebook.recorded import RecordedLoop
from djl_bridge.notebook.values import DataValue


@dataclass(frozen=True)
class CellFailure:
    """Where and how a cell failed: the cell, the file or cell text and line, the Java exception (or the
    JVM's end: ``kind`` "jvm")."""

    cell: int
    origin: str
    line: int
    kind: str  # compile, runtime, unresolved, incomplete, jvm
    exception: str | None
    message: str
    frames: list[str] = field(default_factory=list)  # "method (origin line N)", innermost first
    causes: list[str] = field(default_factory=list)
    stack_trace: str = ""
    known: str | None = None  # registry name of the known failure, once diagnosed
    patch: str = ""  # the --patch that removes it
    explanation: str = ""

    def one_line(self) -> str:
        what = {
            "compile": "does not compile",
            "incomplete": "is not complete Java",
            "unresolved": "uses an undefined name",
            "jvm": "ended the JVM",
        }.get(self.kind, "raised")
        message = self.message
        if len(message) > 160 and ". " in message[:160]:  # libtorch explains at length; keep its first sentence
            message = message[: message.index(". ") + 1] + " ..."
        exc = f"{self.exception}: {message}" if self.exception else message
        text = f"{where(self.cell, self.origin, self.line)} {what}: {exc}"
        if self.frames:
            text += f" [at {self.frames[0]}]"
        return text + (f" [{self.explanation}]" if self.explanation else "")


@dataclass(frozen=True)
class Snippet:
    """One snippet JShell ran: where it starts, and what it printed."""

    cell: int
    origin: str
    line: int
    printed: str


@dataclass(frozen=True)
class NotebookResult:
    """A notebook's run: how far it got, what it printed and showed, and its own training loops, recorded."""

    failure: CellFailure | None
    snippets: list[Snippet]
    loops: list[RecordedLoop]
    figures: list[Figure]
    points: list[tuple[str, float, float]]  # the animator's points: metric, epoch, value
    displays: list[str]
    refused: list[str]  # URLs the notebook opened that are not served
    behaviours: list[str]  # registered behaviours read from the notebook's blocks (StateSignature)
    recorder_problem: str = ""  # why the recorder failed, or why some loop could not be read (the rest can be)
    values: list[DataValue] = field(default_factory=list)  # the text pipeline's values its variables held

    def printed_by(self, loop: RecordedLoop) -> str:
        """What the snippet that ran ``loop`` printed."""
        found = [s for s in self.snippets if (s.cell, s.origin, s.line) == (loop.cell, loop.origin, loop.line)]
        return found[-1].printed if found else ""
