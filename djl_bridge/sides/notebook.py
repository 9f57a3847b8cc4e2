"""A d2l-java notebook executed unchanged in JShell, inside a JVM side of djl-parity.

The shell runs in the JVM that :func:`djl_bridge.jvm.start` gave this process (DJL 0.35.1, PyTorch
engine on the shared libtorch), with JShell's local execution on the calling thread
(``org.djlparity.notebook.NotebookShell``), so the notebook's objects are that JVM's objects. This
module needs no torch: a worker process with another JVM side can run it as well.

Before the first cell: ``MAX_EPOCH`` is set from ``--epochs``, DJL's engine is seeded, the D2L
data URL is answered from the verified local file inside the JVM, and the kernel's display
functions are imported from the recording stand-ins. Each training call (``trainCh8(...)``) is
seen on its way in (its arguments, a hook) and out (what it printed, the model's parameters).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from djl_bridge.data import DATA_URL
from djl_bridge.jvm import java_call, jclass, to_numpy
from djl_bridge.notebook.plan import PRELUDE, Plan, Unit, where

SHELL = "org.djlparity.notebook.NotebookShell"
#: The D2L data file's addresses the notebook's helpers open; served from the local copy.
DATA_URLS = (DATA_URL, DATA_URL.replace("http://", "https://"))
_TRAIN_CALL = re.compile(r"\btrainCh8\s*\(")
Params = list[tuple[str, np.ndarray]]


@dataclass
class Failure:
    """Where and how a cell failed: the cell, the file or cell text and line, the Java exception."""

    cell: int
    origin: str
    line: int
    kind: str  # compile, runtime, unresolved, incomplete
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
        }.get(self.kind, "raised")
        message = self.message
        if len(message) > 160 and ". " in message[:160]:  # libtorch explains at length; keep its first sentence
            message = message[: message.index(". ") + 1] + " ..."
        exc = f"{self.exception}: {message}" if self.exception else message
        text = f"{where(self.cell, self.origin, self.line)} {what}: {exc}"
        if self.frames:
            text += f" [at {self.frames[0]}]"
        return text + (f" [{self.explanation}]" if self.explanation else "")


@dataclass
class TrainingCall:
    """One ``trainCh8(...)`` call of the notebook: its arguments, output and the model's parameters."""

    cell: int
    origin: str
    args: list[str]
    printed: str = ""
    initial_params: Params | None = None  # read just before the call, when the model already has them
    final_params: Params | None = None
    captured: dict = field(default_factory=dict)  # what the before-training hook recorded


@dataclass
class NotebookRun:
    """What the notebook did: its shell (still open), its failure if any, its training calls, its plots."""

    shell: Any
    plan: Plan
    failure: Failure | None = None
    training: list[TrainingCall] = field(default_factory=list)
    points: list[tuple[str, float, float]] = field(default_factory=list)  # animator: metric, epoch, value
    displays: list[str] = field(default_factory=list)

    def value(self, expression: str) -> Any:
        """A notebook name (or side-effect-free expression over its names), read from the shell."""
        with java_call():
            return self.shell.evaluate(expression)

    def close(self) -> None:
        with java_call():
            self.shell.close()


BeforeTraining = Callable[[TrainingCall, "NotebookRun"], None]


def call_args(text: str) -> list[str]:
    """The top-level argument expressions of the first ``trainCh8(...)`` call in ``text``."""
    m = _TRAIN_CALL.search(text)
    if m is None:
        return []
    args, depth, cur = [], 0, ""
    for ch in text[m.end() :]:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                break
            depth -= 1
        if ch == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return args + [cur.strip()] if cur.strip() else args


def _is_call(text: str) -> bool:
    head = text.lstrip()
    declaration = re.match(r"(public|private|protected|static|final|abstract|class|interface|record)\b", head)
    return bool(_TRAIN_CALL.search(text)) and not declaration and not re.search(r"\bvoid\s+trainCh8\s*\(", text)


def model_params(obj: Any) -> Params | None:
    """A model's parameters as numpy (DJL keys for blocks, positions for scratch models); None if not ready."""
    if obj is None:
        return None
    if jclass("ai.djl.nn.AbstractBlock").class_.isInstance(obj):
        out = []
        for pair in obj.getParameters():
            p = pair.getValue()
            if not p.isInitialized():
                return None
            out.append((str(pair.getKey()), to_numpy(p.getArray())))
        return out
    params = jclass(SHELL).field(obj, "params")
    if params is not None and jclass("ai.djl.ndarray.NDList").class_.isInstance(params):
        return [(str(i), to_numpy(a)) for i, a in enumerate(params)]
    return None


def execute(
    plan: Plan, data: Path, epochs: int | None, seed: int | None, before_training: BeforeTraining | None = None
) -> NotebookRun:
    """Run the plan's units in order in one shell; stop at the first failing snippet."""
    with java_call():
        System = jclass("java.lang.System")
        if epochs is not None:
            System.setProperty("MAX_EPOCH", str(epochs))
        else:
            System.clearProperty("MAX_EPOCH")
        if seed is not None:
            jclass("ai.djl.engine.Engine").getInstance().setRandomSeed(seed)
        for url in DATA_URLS:
            jclass("org.djlparity.notebook.OfflineUrls").serve(url, jclass("java.nio.file.Paths").get(str(data)))
        jclass("org.djlparity.notebook.standins.Recording").clear()
        shell = jclass(SHELL)()
        prelude = shell.eval(0, "prelude", 1, PRELUDE)
        if not prelude.ok:
            raise RuntimeError(f"the shell's prelude failed: {prelude.message}")
    run = NotebookRun(shell, plan)
    try:
        for unit in plan.units:
            if not _run_unit(run, unit, before_training):
                break
    finally:
        with java_call():
            rec = jclass("org.djlparity.notebook.standins.Recording")
            run.points = [(str(p.metric), float(p.epoch), float(p.value)) for p in rec.points()]
            run.displays = [str(d) for d in rec.displays()]
    return run


def _run_unit(run: NotebookRun, unit: Unit, before_training: BeforeTraining | None) -> bool:
    with java_call():
        pieces = list(run.shell.split(unit.text))
    for piece in pieces:
        text, line = str(piece.text), unit.first_line + int(piece.line) - 1
        if not piece.complete:
            run.failure = Failure(
                unit.cell,
                unit.origin,
                line,
                "incomplete",
                None,
                "the code ends inside an unfinished statement or block (a missing `}`, `)` or `;`?)",
            )
            return False
        call = TrainingCall(unit.cell, unit.origin, call_args(text)) if _is_call(text) else None
        if call is not None and call.args:
            with java_call():
                call.initial_params = model_params(run.shell.evaluate(call.args[0]))
        if call is not None and before_training is not None:
            before_training(call, run)
        sys.stdout.flush()
        with java_call():
            outcome = run.shell.eval(unit.cell, unit.origin, line, text)
        if not outcome.ok:
            run.failure = _failure(unit, outcome)
            return False
        if call is not None:
            call.printed = str(outcome.printed)
            with java_call():
                call.final_params = model_params(run.shell.evaluate(call.args[0])) if call.args else None
            run.training.append(call)
    return True


def _failure(unit: Unit, outcome: Any) -> Failure:
    frames = []
    for f in outcome.frames:
        _cell, origin, line, method = str(f).split("\t")
        frames.append(f"{method} ({origin} line {line})")
    exc = str(outcome.exceptionClass) if outcome.exceptionClass is not None else None
    return Failure(
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
