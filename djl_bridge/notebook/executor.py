"""A d2l-java notebook executed unchanged in JShell, inside a JVM side of djl-parity.

The shell runs in the JVM that :func:`djl_bridge.jvm.start` gave this process, with JShell's local
execution on the calling thread (``org.djlparity.notebook.NotebookShell``), so the notebook's
objects are that JVM's objects. This module needs no torch: the parent process runs it on DJL
0.35.1's PyTorch engine (the shared libtorch), an MXNet worker (``worker_main.py``, op
``notebook``) on DJL 0.23. What the comparison needs is read from the shell while it is open
(:func:`observe`), so a worker can send the run back as one message (:func:`to_message`).

Before the first cell: ``MAX_EPOCH`` is set from ``--epochs``, DJL's engine is seeded, the D2L
data URLs are answered from verified local files inside the JVM (the text, and what ``--data-file``
supplies), the jars the notebook loads from Maven go on the shell's class path, and the kernel's
display functions are imported from our stand-ins. Each training call (``trainCh8(...)``) is seen
on its way in (its arguments, a hook) and out (what it printed, the model's parameters). The
figures the notebook shows are read back at the end (:mod:`djl_bridge.notebook.figures`), and so
are the URLs it was refused (``OfflineUrls``).
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
from djl_bridge.notebook.cells import where
from djl_bridge.notebook.figures import Figure, read_figures
from djl_bridge.notebook.plan import PRELUDE, Plan, Unit

SHELL = "org.djlparity.notebook.NotebookShell"
RECORDING = "org.djlparity.notebook.standins.Recording"
OFFLINE_URLS = "org.djlparity.notebook.OfflineUrls"
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
    settings: dict = field(default_factory=dict)  # lr, epochs, random_iter: the call's arguments' values
    symptoms: list[str] = field(default_factory=list)  # registered behaviours found in the trained model
    points: list[tuple[str, float, float]] = field(default_factory=list)  # what the animator got during the call


@dataclass
class NotebookData:
    """The notebook's vocabulary, corpus and batches, read from the dataset its first training call used."""

    vocab: list[str]
    corpus: list[int]
    batches_x: np.ndarray
    batches_y: np.ndarray
    max_tokens: int
    offset: int | None


@dataclass
class NotebookRun:
    """What the notebook did: its shell (open until closed; None once sent from a worker), its failure
    if any, its training calls, its plots, its data."""

    shell: Any
    plan: Plan
    failure: Failure | None = None
    training: list[TrainingCall] = field(default_factory=list)
    points: list[tuple[str, float, float]] = field(default_factory=list)  # animator: metric, epoch, value
    displays: list[str] = field(default_factory=list)
    data: NotebookData | None = None
    figures: list[Figure] = field(default_factory=list)  # every figure shown, as last shown
    refused: list[str] = field(default_factory=list)  # URLs the notebook opened that are not served

    def value(self, expression: str) -> Any:
        """A notebook name (or side-effect-free expression over its names), read from the shell."""
        with java_call():
            return self.shell.evaluate(expression)

    def close(self) -> None:
        if self.shell is not None:
            with java_call():
                self.shell.close()
            self.shell = None

    def compared_calls(self) -> list[TrainingCall]:
        """The training calls with the book's 8 arguments (net, dataset, vocab, lr, epochs, device, random, manager)."""
        return [c for c in self.training if len(c.args) >= 8]


BeforeTraining = Callable[[TrainingCall, "NotebookRun"], None]
Output = Callable[[str], None]


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
    plan: Plan,
    data: Path,
    epochs: int | None,
    seed: int | None,
    before_training: BeforeTraining | None = None,
    on_output: Output | None = None,
    served: dict[str, Path] | None = None,
) -> NotebookRun:
    """Run the plan's units in order in one shell; stop at the first failing snippet.

    ``on_output`` hears what each snippet printed once it ends (the shell also prints it as it goes);
    ``served`` maps more data URLs to checked local files (``--data-file``).
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
            if not _run_unit(run, unit, before_training, on_output):
                break
            if i + 1 == len(plan.units) or plan.units[i + 1].cell != unit.cell:
                with java_call():  # the cell's value is shown when it is a figure
                    jclass(RECORDING).cellValue(unit.cell, shell.cellValue())
    finally:
        with java_call():
            run.points = _points(jclass(RECORDING).points())
            run.displays = [str(d) for d in jclass(RECORDING).displays()]
            run.figures = read_figures(jclass(RECORDING).figures())
            run.refused = [str(u) for u in jclass(OFFLINE_URLS).refused()]
    return run


def _run_unit(run: NotebookRun, unit: Unit, before_training: BeforeTraining | None, on_output: Output | None) -> bool:
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
        if call is not None:
            with java_call():
                recorded = len(jclass(RECORDING).points())
        sys.stdout.flush()
        with java_call():
            outcome = run.shell.eval(unit.cell, unit.origin, line, text)
        if on_output is not None and str(outcome.printed):
            on_output(str(outcome.printed))
        if not outcome.ok:
            run.failure = _failure(unit, outcome)
            return False
        if call is not None:
            call.printed = str(outcome.printed)
            with java_call():
                call.points = _points(list(jclass(RECORDING).points())[recorded:])
            with java_call():
                call.final_params = model_params(run.shell.evaluate(call.args[0])) if call.args else None
            run.training.append(call)
    return True


def _points(points: Any) -> list[tuple[str, float, float]]:
    return [(str(p.metric), float(p.epoch), float(p.value)) for p in points]


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


def _field(obj: Any, name: str) -> Any:
    return jclass(SHELL).field(obj, name)


def notebook_data(run: NotebookRun, call: TrainingCall) -> NotebookData:
    """Vocabulary, corpus and batches of the dataset the training call used, read from the notebook."""
    dataset, vocab = run.value(call.args[1]), run.value(call.args[2])
    with java_call():
        tokens = _field(vocab, "idxToToken")
        max_tokens = int(_field(dataset, "maxTokens"))
        corpus = _field(dataset, "corpus")
        if corpus is None:  # the book's dataset keeps no corpus: ask its own helper for it
            corpus = run.shell.evaluate(f"TimeMachine.loadCorpusTimeMachine({max_tokens}).getKey()")
        manager = jclass("ai.djl.ndarray.NDManager").newBaseManager()
        xs, ys = [], []
        try:
            for batch in dataset.getData(manager):
                xs.append(to_numpy(batch.getData().head()))
                ys.append(to_numpy(batch.getLabels().head()))
                batch.close()
        finally:
            manager.close()
        data = NotebookData(
            [str(t) for t in tokens], [int(i) for i in corpus], np.stack(xs), np.stack(ys), max_tokens, None
        )
    steps = data.batches_x.shape[2]
    first = data.batches_x[0, 0].tolist()
    data.offset = next((o for o in range(steps) if data.corpus[o : o + steps] == first), None)
    return data


def observe(run: NotebookRun, mode: str = "parity") -> None:
    """Read what the comparison needs while the shell is open: each call's settings and the registered
    behaviours of ``mode``'s engine found in its trained model (``StateSignature``), the first call's data."""
    from djl_bridge.parity.divergences import state_causes

    if run.failure is not None:
        return
    calls = run.compared_calls()
    causes = state_causes(mode)
    for call in calls:
        lr, epochs, random_iter = (run.value(a) for a in (call.args[3], call.args[4], call.args[6]))
        call.settings = {"lr": int(lr), "epochs": int(epochs), "random_iter": bool(random_iter)}
        blocks = _blocks(run.value(call.args[0])) if causes else []
        with java_call():
            call.symptoms = [
                d.name
                for d in causes
                if d.state is not None
                and any(
                    jclass(d.state.block).class_.isInstance(b) and _text(_field(b, d.state.field)) == d.state.value
                    for b in blocks
                )
            ]
    if calls:
        run.data = notebook_data(run, calls[0])


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


def to_message(run: NotebookRun) -> dict:
    """The observed run as a worker message body (``sides/wire.py``); the shell stays behind."""
    return {
        "failure": run.failure,
        "training": run.training,
        "points": run.points,
        "displays": run.displays,
        "data": run.data,
        "figures": run.figures,
        "refused": run.refused,
    }


def _params(value: Any) -> Params | None:
    return None if value is None else [(str(n), a) for n, a in value]


def from_message(body: dict, plan: Plan) -> NotebookRun:
    """A run sent by a worker (:func:`to_message`), for the plan the parent built."""
    from djl_bridge.sides.wire import rebuild

    training = []
    for c in body["training"]:
        call = rebuild(TrainingCall, c)
        call.initial_params, call.final_params = _params(call.initial_params), _params(call.final_params)
        call.points = [(str(m), float(e), float(v)) for m, e, v in call.points]
        training.append(call)
    return NotebookRun(
        None,
        plan,
        rebuild(Failure, body["failure"]) if body["failure"] else None,
        training,
        [(str(m), float(e), float(v)) for m, e, v in body["points"]],
        list(body["displays"]),
        rebuild(NotebookData, body["data"]) if body["data"] else None,
        [Figure.from_dict(f) for f in body["figures"]],
        [str(u) for u in body["refused"]],
    )


def _seed_engine(seed: int) -> None:
    with java_call():
        jclass("ai.djl.engine.Engine").getInstance().setRandomSeed(seed)


def reseed(seed: int) -> BeforeTraining:
    """Before-training hook where the engine's generator state cannot be read (MXNet): seed it again
    just before a call whose model has no weights yet, so :func:`replay` can draw them again."""

    def hook(call: TrainingCall, run: NotebookRun) -> None:
        if call.initial_params is None:
            _seed_engine(seed)
            call.captured["reseeded"] = seed

    return hook


def replay(cfg: Any, data: Path, seed: int) -> Any:
    """Our Java helpers on this process's engine, from the weights a reseeded call drew (a Trace).

    Seeded as :func:`reseed` seeded the call (``cfg.seed``), the model is initialised as ``trainCh8``'s
    first forward initialises it (the same initialisers, in DJL's parameter order), then trained with the
    call's settings in the published loop (its ``stopGradient()`` results dropped). Its final parameters
    identical to the notebook's prove that its initial ones are the notebook's.
    """
    from dataclasses import replace

    from djl_bridge.jvm.helpers import run
    from djl_bridge.trace import Request

    return run(Request(replace(cfg, seed=seed), str(data), full_steps=0, discard_stop_gradient=True))
