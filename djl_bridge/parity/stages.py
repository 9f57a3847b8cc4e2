"""THE stage table: every thing two traces are compared on, in order, one name each.

``compare`` and ``notebook`` judge their traces through this one table (a notebook's step-1 loss is
``step1.loss`` as in ``compare``); a flow picks the groups that apply to it. Stages that are not
values of a trace (a Java failure, the published model's probe, a notebook's named behaviour) are
judged by the judges directly and named in :data:`SPECIAL`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from djl_bridge.trace import PREFIXES, Trace


@dataclass(frozen=True)
class Stage:
    """One comparable thing: its name, how it is read from a trace, its kind, its group.

    Kinds: ``data`` (equal or not), ``array`` (float arrays or name→array mappings), ``series``
    (one value per step or epoch; 2-d: one column per parameter), ``init`` (a side's own draw).
    """

    name: str
    read: Callable[[Trace], Any]
    kind: str
    group: str
    index: str = ""

    def value(self, trace: Trace) -> Any:
        """The stage's value in ``trace``, or None where the trace does not have it."""
        return self.read(trace)


def _data(attr: str) -> Callable[[Trace], Any]:
    return lambda t: getattr(t.data, attr) if t.data is not None else None


def _step1(attr: str) -> Callable[[Trace], Any]:
    return lambda t: getattr(t.steps[0], attr) if t.steps else None


def _printed_perplexity(t: Trace) -> list[str] | None:
    return [t.printed[0].split(",")[0]] if t.printed else None


def _predictions(t: Trace) -> list[str] | None:
    return [t.predictions[p] for p in PREFIXES] if t.predictions else None


def _series(attr: str, dtype: type = np.float32) -> Callable[[Trace], np.ndarray | None]:
    """A series in the type both sides compute it in (float32 but for the book's float64 gradient norm), so
    its ULP distance is counted in that type (traces keep Python floats); None where the trace has none."""

    def read(t: Trace) -> np.ndarray | None:
        values = getattr(t, attr)
        return np.asarray(values, dtype) if len(values) else None

    return read


STEP1_FIELDS = ("logits", "state", "loss", "grads", "grad_norm", "clipped_grads", "params_after")
STAGES: tuple[Stage, ...] = (
    *(Stage(n, _data(a), "data", "data") for n, a in (("lines", "lines"), ("tokens", "tokens"), ("vocab", "vocab"))),
    Stage("corpus", _data("corpus"), "data", "data"),
    Stage("batches.x", _data("batches_x"), "data", "data"),
    Stage("batches.y", _data("batches_y"), "data", "data"),
    Stage("init.independent", lambda t: t.init_own or None, "init", "init"),
    Stage("init.transfer", lambda t: t.init or None, "data", "init"),
    *(Stage(f"step1.{f}", _step1(f), "array", "step1") for f in STEP1_FIELDS),
    Stage("steps.loss", _series("losses"), "series", "steps", "step"),
    Stage("steps.grad_norm", _series("grad_norms", np.float64), "series", "steps", "step"),
    Stage("steps.grad_sq", _series("grad_sq"), "series", "steps", "step"),
    Stage("epochs.perplexity", _series("perplexities", np.float64), "series", "epochs", "epoch"),
    Stage("final.params", lambda t: t.final or None, "array", "end"),
    Stage("printed.perplexity", _printed_perplexity, "data", "end"),
    Stage("predictions", _predictions, "data", "end"),
)
#: Stages judged from a failure, a probe or a named behaviour rather than read from both traces.
SPECIAL = ("java.as_published", "java.run", "layout.step1_logits", "notebook.run", "notebook.rest", "model.behaviour")
#: Stages compared for equality (no float tolerance applies).
DATA_STAGES = tuple(s.name for s in STAGES if s.kind in ("data", "init"))


def stages(*groups: str) -> tuple[Stage, ...]:
    """The table's stages of ``groups``, in table order."""
    return tuple(s for s in STAGES if s.group in groups)
