"""A notebook's side, from the parent: its plan (patches applied, artifacts resolved, the engine chosen), its run
in a worker with its own training loops recorded, and its failure named when it is a known one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from djl_bridge.notebook.maven import choose_engine, substitutions
from djl_bridge.notebook.patches import PATCHES, apply_patches
from djl_bridge.notebook.plan import Plan, build_plan
from djl_bridge.notebook.resolve import classpath_notes
from djl_bridge.notebook.result import CellFailure, NotebookResult, Snippet


@dataclass
class Prepared:
    plan: Plan
    engine: str
    notes: list[str] = field(default_factory=list)  # substitutions and resolved artifacts, stated
    diffs: list[str] = field(default_factory=list)  # one unified diff per patched unit
    utils: Path | None = None
    patches: list[str] = field(default_factory=list)


def planned(notebook: Path, utils: Path | None, patches: list[str]) -> tuple[Plan, list[str]]:
    """The notebook's plan with the patches applied, and their diffs (the parent and a worker build the same)."""
    plan = build_plan(notebook, utils)
    return plan, apply_patches(plan, patches)


def prepare(notebook: Path, engine: str, utils: Path | None, patches: list[str], compare: bool = True) -> Prepared:
    """Everything decided before the JVM runs: the plan, the engine side, what is substituted and patched."""
    plan, diffs = planned(notebook, utils, patches)
    chosen = choose_engine(engine, plan.maven)
    prepared = Prepared(
        plan,
        chosen,
        substitutions(chosen, plan.maven) + classpath_notes(plan.classpath, chosen),
        diffs,
        utils,
        list(patches),
    )
    for name in patches:
        prepared.notes.append(f"--patch {name}: {PATCHES[name].summary}")
    return prepared


#: Steps of each recorded loop kept in full (logits, gradients, parameters before and after the update).
FULL_STEPS = 2


class _Heard:
    """The worker's notebook events, as the notebook side's own record should the worker die: the cell that
    was running, and what each snippet printed."""

    def __init__(self, on_event: Callable[[dict], None]) -> None:
        self.on_event, self.cell, self.snippets = on_event, None, []

    def __call__(self, event: dict) -> None:
        if event.get("event") == "cell":
            self.cell = (event["cell"], event["origin"], event["line"])
            self.snippets.append(Snippet(*self.cell, ""))
        elif event.get("event") == "output" and self.snippets:
            last = self.snippets[-1]
            self.snippets[-1] = Snippet(last.cell, last.origin, last.line, last.printed + event["text"])
        self.on_event(event)


def execute_on_side(
    prepared: Prepared,
    data: Path,
    epochs: int | None,
    seed: int,
    on_event: Callable[[dict], None],
    served: dict[str, Path] | None = None,
    record: int | None = FULL_STEPS,
) -> tuple[NotebookResult, dict[str, str]]:
    """Run the notebook in a worker process on its engine, its loops recorded; what it did, and the side's
    environment. A worker that dies while a cell runs (the cell ended the JVM, or crashed it) is the
    notebook's failure at that cell; ``on_event`` hears the worker's events; ``served`` maps more data
    URLs to checked local files (``--data-file``); ``record``: the steps of each loop kept in full (None: the
    recorder is not installed)."""
    from djl_bridge.sides import wire, worker

    request = {
        "op": "notebook",
        "notebook": str(prepared.plan.notebook.resolve()),  # the worker runs in a folder of its own
        "utils": str(prepared.utils.resolve()) if prepared.utils else None,
        "patches": prepared.patches,
        "data": str(data.resolve()),
        "data_files": {url: str(p.resolve()) for url, p in (served or {}).items()},
        "epochs": epochs,
        "seed": seed,
        "record": record,
    }
    heard = _Heard(on_event)
    try:
        body, stats = worker.run_worker(prepared.engine, request, heard)
    except worker.WorkerDied as exc:
        if heard.cell is None:
            raise
        return _died(heard, exc.how), {"notebook side": f"a worker process on {prepared.engine}, which {exc.how}"}
    env = {
        "notebook side": f"JShell (local execution) in a worker process's JVM, DJL {stats.djl}",
        "DJL engine": f"{prepared.engine} {stats.engine_version}",
        "native library": stats.native,
        "worker start (spawn to engine ready)": f"{stats.spawn_to_started_s:.2f} s (JVM {stats.jvm_s:.2f} s)",
        "torch imported in the worker": str(body["torch_imported"]),
    }
    return wire.rebuild(NotebookResult, body["result"]), env


def _died(heard: _Heard, how: str) -> NotebookResult:
    cell, origin, line = heard.cell
    why = f"the worker's JVM {how} while the cell ran (System.exit, a crash, or a kill)"
    failure = CellFailure(cell, origin, line, "jvm", None, why)
    return NotebookResult(failure, heard.snippets, [], [], [], [], [], [])  # what it recorded died with it


def diagnose_failure(result: NotebookResult, plan: Plan) -> NotebookResult:
    """The result with its failure named when it is a known failure of the published code (see ``failures``)."""
    from djl_bridge.notebook.failures import diagnose

    f = result.failure
    if f is None or f.exception is None:
        return result
    found = diagnose(plan, f.exception, f.message, f.stack_trace)
    if found is None:
        return result
    named = replace(f, known=found.name, patch=found.patch, explanation=found.describe())
    return replace(result, failure=named)
