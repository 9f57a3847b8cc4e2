"""``djl-parity notebook``: plan, execute and compare one notebook; the CLI only prints and exits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from djl_bridge.notebook.maven import choose_engine, substitutions
from djl_bridge.notebook.patches import PATCHES, apply_patches
from djl_bridge.notebook.plan import Plan, build_plan

Say = Callable[[str], None]


class EngineUnavailable(RuntimeError):
    """The engine side the notebook needs is not part of this installation (exit 3)."""


@dataclass
class Prepared:
    plan: Plan
    engine: str
    notes: list[str] = field(default_factory=list)  # substitutions and stand-ins, stated
    diffs: list[str] = field(default_factory=list)  # one unified diff per patched unit


def prepare(notebook: Path, engine: str, utils: Path | None, patches: list[str]) -> Prepared:
    """Everything decided before the JVM runs: the plan, the engine side, what is substituted and patched."""
    plan = build_plan(notebook, utils)
    chosen = choose_engine(engine, plan.maven)
    if chosen != "pytorch":
        raise EngineUnavailable(
            f"{notebook.name} pins {', '.join(str(m) for m in plan.maven if 'mxnet' in m.group) or 'MXNet'}: "
            f"the MXNet engine side (DJL 0.23.0 in a worker process) is not available in this installation; "
            f"run it on DJL 0.35.1's PyTorch engine with --engine pytorch"
        )
    prepared = Prepared(plan, chosen, substitutions(chosen, plan.maven) + plan.standins)
    prepared.diffs = apply_patches(plan, patches)
    for name in patches:
        prepared.notes.append(f"--patch {name}: {PATCHES[name].summary}")
    return prepared


def diagnose_failure(run) -> None:
    """Name the run's failure when it is a known failure of the published code (see ``failures``)."""
    from djl_bridge.notebook.failures import diagnose

    f = run.failure
    if f is not None and f.exception is not None:
        found = diagnose(run.plan, f.exception, f.message, f.stack_trace)
        if found is not None:
            f.known, f.patch, f.explanation = found.name, found.patch, found.describe()


def environment() -> dict:
    import platform

    import torch

    from djl_bridge.jvm import start

    info = start()
    return {
        "notebook side": f"JShell (local execution) in this process's JVM, Java {info.java_version}",
        "DJL": info.djl_version,
        "DJL engine": f"{info.engine} {info.engine_version}",
        "libtorch": info.libtorch_dir,
        "torch (port)": torch.__version__,
        "Python": platform.python_version(),
    }
