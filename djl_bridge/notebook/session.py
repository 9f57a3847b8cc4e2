"""``djl-parity notebook``: plan, execute (on the notebook's engine side) and diagnose one notebook;
the CLI only prints and exits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from djl_bridge.notebook.executor import NotebookRun
from djl_bridge.notebook.maven import choose_engine, substitutions
from djl_bridge.notebook.patches import PATCHES, apply_patches
from djl_bridge.notebook.plan import Plan, build_plan
from djl_bridge.notebook.resolve import classpath_notes


@dataclass
class Prepared:
    plan: Plan
    engine: str
    notes: list[str] = field(default_factory=list)  # substitutions and resolved artifacts, stated
    diffs: list[str] = field(default_factory=list)  # one unified diff per patched unit
    utils: Path | None = None
    patches: list[str] = field(default_factory=list)


RESEEDED = (
    "the engine's generator state cannot be read from outside: the engine is seeded with --seed again just "
    "before each trainCh8 whose model has no weights yet, so that the weights it draws can be drawn again"
)


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
    if compare:
        prepared.notes.append(RESEEDED)
    return prepared


@dataclass
class Executed:
    """The executed, observed notebook on its side, what that side was, and our helpers' replays."""

    run: NotebookRun
    environment: dict
    replays: dict = field(default_factory=dict)  # compared call index -> Trace (MXNet)


def execute_on_side(
    prepared: Prepared,
    data: Path,
    epochs: int | None,
    seed: int,
    compare: bool,
    on_event: Callable[[dict], None],
    served: dict[str, Path] | None = None,
) -> Executed:
    """Run the notebook on its engine side, in a worker process of its own (any engine).

    ``on_event`` hears the worker's events (cell output, animator points, replays); ``served`` maps
    more data URLs to checked local files (``--data-file``).
    """
    from djl_bridge.notebook.executor import from_message
    from djl_bridge.sides import worker

    request = {
        "notebook": str(prepared.plan.notebook.resolve()),  # the worker runs in a folder of its own
        "utils": str(prepared.utils.resolve()) if prepared.utils else None,
        "patches": prepared.patches,
        "data": str(data.resolve()),
        "data_files": {url: str(p.resolve()) for url, p in (served or {}).items()},
        "epochs": epochs,
        "seed": seed,
        "compare": compare,
    }
    body, replays, stats = worker.notebook(prepared.engine, request, on_event)
    env = {
        "notebook side": f"JShell (local execution) in a worker process's JVM, DJL {stats.djl}",
        "DJL engine": f"{prepared.engine} {stats.engine_version}",
        "native library": stats.native,
        "worker start (spawn to engine ready)": f"{stats.spawn_to_started_s:.2f} s (JVM {stats.jvm_s:.2f} s)",
        "torch imported in the worker": str(body["torch_imported"]),
    }
    return Executed(from_message(body["run"], prepared.plan), env, replays)


def diagnose_failure(run) -> None:
    """Name the run's failure when it is a known failure of the published code (see ``failures``)."""
    from djl_bridge.notebook.failures import diagnose

    f = run.failure
    if f is not None and f.exception is not None:
        found = diagnose(run.plan, f.exception, f.message, f.stack_trace)
        if found is not None:
            f.known, f.patch, f.explanation = found.name, found.patch, found.describe()
