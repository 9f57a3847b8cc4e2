"""A d2l-java notebook executed unchanged in JShell, in the JVM of a worker process (any engine).

The shell runs in this process's JVM (:func:`djl_bridge.jvm.start`), with JShell's local execution
on the calling thread (``org.djlparity.notebook.NotebookShell``), so the notebook's objects are this
JVM's objects. No torch here. Before the first cell: ``MAX_EPOCH`` is set from ``--epochs``, DJL's
engine is seeded, the D2L data URLs are answered from verified local files inside the JVM (the
text, and what ``--data-file`` supplies), the jars the notebook loads from Maven go on the shell's
class path, and the kernel's display functions are imported from our stand-ins. The notebook's own
training loops are recorded by the recorder (``notebook/recorded.py``), not recognised in its
source. What the run did is read while the shell is open and sent back as one
:class:`~djl_bridge.notebook.result.NotebookResult`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from djl_bridge.data import DATA_URL
from djl_bridge.jvm import java_call, jclass
from djl_bridge.notebook.figures import Figure, read_figures
from djl_bridge.notebook.plan import PRELUDE, Plan, Unit
from djl_bridge.notebook.result import CellFailure, NotebookResult, Snippet
from djl_bridge.notebook.values import DataValue, declared_values

SHELL = "org.djlparity.notebook.NotebookShell"
RECORDING = "org.djlparity.notebook.standins.Recording"
OFFLINE_URLS = "org.djlparity.notebook.OfflineUrls"
#: The D2L data file's addresses the notebook's helpers open; served from the local copy.
DATA_URLS = (DATA_URL, DATA_URL.replace("http://", "https://"))


@dataclass
class NotebookRun:
    """A notebook running in this JVM: its shell (open until closed), how far it got, what it printed."""

    shell: Any
    plan: Plan
    failure: CellFailure | None = None
    snippets: list[Snippet] = field(default_factory=list)
    values: list[DataValue] = field(default_factory=list)  # the text pipeline's values it declared
    declared: list[tuple[str, int, str, int]] = field(default_factory=list)  # this cell's: name, where

    def value(self, expression: str) -> Any:
        """The value of a Java expression in the notebook's shell (a variable's object, as this JVM holds it)."""
        with java_call():
            return self.shell.evaluate(expression)

    def close(self) -> None:
        if self.shell is not None:
            with java_call():
                self.shell.close()
            self.shell = None


Output = Callable[[str], None]
#: hears each snippet before it runs: its cell, origin and first line
CellStart = Callable[[int, str, int], None]


def execute(
    plan: Plan,
    data: Path,
    epochs: int | None,
    seed: int | None,
    on_output: Output | None = None,
    served: dict[str, Path] | None = None,
    on_cell: CellStart | None = None,
) -> NotebookRun:
    """Run the plan's units in order in one shell; stop at the first failing snippet.

    ``on_output`` hears what each snippet printed once it ends (the shell also prints it as it goes);
    ``on_cell`` hears each snippet before it runs; ``served`` maps more data URLs to checked local
    files (``--data-file``).
    """
    with java_call():
        System = jclass("java.lang.System")
        if epochs is not None:
            System.setProperty("MAX_EPOCH", str(epochs))
        else:
            System.clearProperty("MAX_EPOCH")
        if seed is not None:
            jclass("ai.djl.engine.Engine").getInstance().setRandomSeed(seed)
        jclass(OFFLINE_URLS).forget()
        for url, path in [*((u, data) for u in DATA_URLS), *(served or {}).items()]:
            jclass(OFFLINE_URLS).serve(url, jclass("java.nio.file.Paths").get(str(path)))
        jclass(RECORDING).clear()
        shell = jclass(SHELL)()
        for jar in plan.classpath.jars:
            shell.addToClasspath(jar)
        prelude = shell.eval(0, "prelude", 1, PRELUDE)
        if not prelude.ok:
            raise RuntimeError(f"the shell's prelude failed: {prelude.message}")
    run = NotebookRun(shell, plan)
    try:
        for i, unit in enumerate(plan.units):
            if not _run_unit(run, unit, on_output, on_cell):
                break
            if i + 1 == len(plan.units) or plan.units[i + 1].cell != unit.cell:
                with java_call():  # the cell's value is shown when it is a figure
                    jclass(RECORDING).cellValue(unit.cell, shell.cellValue())
                run.values += declared_values(run.declared, run.value)  # as the cell left them
                run.declared = []
    except BaseException:
        run.close()
        raise
    return run


def _run_unit(run: NotebookRun, unit: Unit, on_output: Output | None, on_cell: CellStart | None) -> bool:
    with java_call():
        pieces = list(run.shell.split(unit.text))
    for piece in pieces:
        text, line = str(piece.text), unit.first_line + int(piece.line) - 1
        if not piece.complete:
            why = "the code ends inside an unfinished statement or block (a missing `}`, `)` or `;`?)"
            run.failure = CellFailure(unit.cell, unit.origin, line, "incomplete", None, why)
            return False
        if on_cell is not None:
            on_cell(unit.cell, unit.origin, line)
        sys.stdout.flush()
        with java_call():
            outcome = run.shell.eval(unit.cell, unit.origin, line, text)
        printed = str(outcome.printed)
        if on_output is not None and printed:
            on_output(printed)
        run.snippets.append(Snippet(unit.cell, unit.origin, line, printed))
        if not outcome.ok:
            run.failure = _failure(unit, outcome)
            return False
        with java_call():
            run.declared += [(str(n), unit.cell, unit.origin, line) for n in run.shell.declared()]
    return True


def _points(points: Any) -> list[tuple[str, float, float]]:
    return [(str(p.metric), float(p.epoch), float(p.value)) for p in points]


def _failure(unit: Unit, outcome: Any) -> CellFailure:
    frames = []
    for f in outcome.frames:
        _cell, origin, line, method = str(f).split("\t")
        frames.append(f"{method} ({origin} line {line})")
    exc = str(outcome.exceptionClass) if outcome.exceptionClass is not None else None
    return CellFailure(
        unit.cell,
        unit.origin,
        int(outcome.line),
        str(outcome.kind),
        exc,
        str(outcome.message),
        frames,
        [str(c) for c in outcome.causes],
        str(outcome.stackTrace),
    )


def _field(obj: Any, name: str) -> Any:
    return jclass(SHELL).field(obj, name)


def behaviours(run: NotebookRun, mode: str) -> list[str]:
    """The registered behaviours of ``mode``'s engine (``StateSignature``: a block whose field holds a value)
    found in any block the notebook's variables hold."""
    from djl_bridge.parity.divergences import state_causes

    causes = state_causes(mode)
    if not causes or run.shell is None:
        return []
    blocks = []
    with java_call():
        for name in run.shell.variableNames():
            try:
                blocks += _blocks(run.value(str(name)))
            except Exception:  # a variable that cannot be read (not initialised): no block there
                continue
        return [
            d.name
            for d in causes
            if any(
                jclass(d.state.block).class_.isInstance(b) and _text(_field(b, d.state.field)) == d.state.value
                for b in blocks
            )  # fmt: skip
        ]


def _text(value: Any) -> str:
    """A Java value as ``String.valueOf`` prints it."""
    return "null" if value is None else str(value)


def _blocks(obj: Any) -> list[Any]:
    """A block and all its children, depth first (nothing for a scratch model)."""
    with java_call():
        if obj is None or not jclass("ai.djl.nn.Block").class_.isInstance(obj):
            return []
        out = [obj]
        for pair in obj.getChildren():
            out += _blocks(pair.getValue())
    return out


def result(run: NotebookRun, mode: str) -> NotebookResult:
    """What the run did, read while its shell is open: the loops the recorder saw, the figures, the refused
    URLs, the behaviours of ``mode``'s engine."""
    from djl_bridge.notebook.recorded import RecorderError, read_loops

    try:
        loops, unread = read_loops()
        problem = "; ".join(unread)
    except RecorderError as exc:
        loops, problem = [], str(exc)
    with java_call():
        figures: list[Figure] = read_figures(jclass(RECORDING).figures())
        points = _points(jclass(RECORDING).points())
        displays = [str(d) for d in jclass(RECORDING).displays()]
        refused = [str(u) for u in jclass(OFFLINE_URLS).refused()]
    return NotebookResult(
        run.failure, run.snippets, loops, figures, points, displays, refused, behaviours(run, mode), problem, run.values
    )
