"""The notebook's own training loops, as observed in DJL while its cells ran (no torch here).

The Java side (``org.djlparity.recorder``) is an agent installed into this process's JVM at run
time with ByteBuddy: it hooks DJL's API types and their engine implementations, not the notebook's
source, so whatever loop a notebook defines is recorded. Each backward is a step; a loop is the
consecutive steps of one snippet on one set of parameters (the tracked arrays whose gradient the
backward changed). Kept for every step: the inputs and labels fed, whether the recurrent state
was carried, the loss and the gradient norm (the book's way: float32 sums added into a double);
for the first ``full_steps`` steps also the parameters, gradients, logits, clipped gradients and
parameters after the update. Epoch starts are the loop's ``Dataset.getData`` calls; a loop over a
``List<NDList>`` makes none, and then the period of its input sequence is the epoch length.

:func:`record` turns recording on (before the notebook runs), :func:`read_loops` reads the loops
(after it ran, in the same process), :func:`stop` turns it off. A worker sends the loops back as
they are (``sides/wire.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from djl_bridge.jvm import java_call, jclass

RECORDER = "org.djlparity.recorder.Recorder"
#: Steps of each loop recorded in full unless :func:`record` is told otherwise.
DEFAULT_FULL_STEPS = 2
DATASET, INPUT_PERIOD = "dataset", "input period"
Arrays = dict[str, np.ndarray]


class RecorderError(RuntimeError):
    """The recorder failed inside the JVM, or recorded a loop that cannot be read as batches."""


@dataclass(frozen=True)
class RecordedStep:
    """One of the first steps of a loop, in full (parameters by the loop's names)."""

    params_before: Arrays
    grads: Arrays  # after the backward, before clipping
    loss: np.float32
    grad_norm: float
    logits: np.ndarray | None
    clipped_grads: Arrays | None  # the gradients the update used
    params_after: Arrays | None


@dataclass(frozen=True)
class RecordedLoop:
    """One training loop of the notebook: where it ran, its parameters, batches and steps."""

    cell: int
    origin: str
    line: int  # the snippet's first line in ``origin``
    names: list[str]  # tracking order; the arrays' names, or positions "0", "1", ... when unnamed
    shapes: list[tuple[int, ...]]
    initial: Arrays  # at the first backward's entry
    final: Arrays  # at the snippet's end
    xs: np.ndarray  # (steps, batch, num_steps) int32
    ys: np.ndarray
    carried: np.ndarray  # (steps,) bool: the state came from the previous step
    epoch_starts: list[int]
    epochs_from: str  # DATASET or INPUT_PERIOD
    losses: np.ndarray  # (steps,) float32
    grad_norms: np.ndarray  # (steps,) float64
    grad_sq: np.ndarray  # (steps, parameters) float32: each parameter's sum of squared gradients
    start_grads: Arrays  # the gradients at the loop's first backward's entry (left by earlier loops, or zero)
    full: list[RecordedStep]


def record(full_steps: int = DEFAULT_FULL_STEPS) -> None:
    """Turn recording on, keeping ``full_steps`` steps of each loop in full; earlier loops are forgotten.

    The first call installs the agent into this process's JVM (started if needed).
    """
    if full_steps < 0:
        raise ValueError(f"full_steps must be >= 0, got {full_steps}")
    with java_call():
        jclass(RECORDER).start(int(full_steps))


def stop() -> None:
    """Turn recording off (the hooks stay installed and do nothing)."""
    with java_call():
        jclass(RECORDER).stop()


def instrumented() -> list[str]:
    """The DJL classes the agent changed in this JVM so far."""
    with java_call():
        return sorted({str(c) for c in jclass(RECORDER).instrumented()})


def read_loops() -> tuple[list[RecordedLoop], list[str]]:
    """The loops recorded since :func:`record`, and why any other loop could not be read; raises
    :class:`RecorderError` if the recorder itself failed."""
    with java_call():
        recorder = jclass(RECORDER)
        problems = [str(e) for e in recorder.errors()] + [str(e) for e in recorder.agentFailures()]
        if problems:
            raise RecorderError("the recorder failed: " + "; ".join(problems[:5]))
        loops, unread = [], []
        for j in recorder.loops():
            try:
                loops.append(_loop(j))
            except RecorderError as exc:
                unread.append(str(exc))
        return loops, unread


def _names(java_names: Any) -> list[str]:
    names = [None if n is None else str(n) for n in java_names]
    if None in names or len(set(names)) < len(names):
        return [str(i) for i in range(len(names))]
    return names  # type: ignore[return-value]


def _floats(values: Any, shape: tuple[int, ...]) -> np.ndarray:
    return np.array(values, dtype=np.float32).reshape(shape)


def _named(names: list[str], shapes: list[tuple[int, ...]], arrays: Any) -> Arrays | None:
    """Per-parameter Java arrays as named numpy arrays; None when any is missing."""
    if arrays is None or any(a is None for a in arrays):
        return None
    return {n: _floats(a, s) for n, s, a in zip(names, shapes, arrays)}


def _batches(j: Any, steps: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for i in range(steps):
        x, y, shape = j.x(i), j.y(i), j.xShape(i)
        if x is None or y is None:
            raise RecorderError(
                f"{j.origin} line {j.line}: a training loop whose steps feed no token batches the recorder could "
                "read (the port's models train on The Time Machine's character indices)"
            )
        dims = tuple(int(d) for d in shape)
        xs.append(np.array(x, dtype=np.int32).reshape(dims))
        ys.append(np.array(y, dtype=np.int32).reshape(dims))
    try:
        return np.stack(xs), np.stack(ys)
    except ValueError:
        raise RecorderError(f"{j.origin} line {j.line}: the batches differ in shape") from None


def _step(f: Any, names: list[str], shapes: list[tuple[int, ...]]) -> RecordedStep:
    logits = None if f.logits is None else _floats(f.logits, tuple(int(d) for d in f.logitsShape))
    return RecordedStep(
        _named(names, shapes, f.before) or {},
        _named(names, shapes, f.grads) or {},
        np.float32(f.loss),
        float(f.gradNorm),
        logits,
        _named(names, shapes, f.clipped),
        _named(names, shapes, f.after),
    )


def _loop(j: Any) -> RecordedLoop:
    names = _names(j.names)
    shapes = [tuple(int(d) for d in s) for s in j.shapes]
    steps = int(j.steps())
    xs, ys = _batches(j, steps)
    finals = j.finals
    final = {} if finals is None else {n: _floats(a, s) for n, s, a in zip(names, shapes, finals) if a is not None}
    starts, found = epoch_starts(np.array(j.epochStarts(), dtype=bool), xs, ys)
    return RecordedLoop(
        int(j.cell),
        str(j.origin),
        int(j.line),
        names,
        shapes,
        _named(names, shapes, j.initial) or {},
        final,
        xs,
        ys,
        np.array(j.carried(), dtype=bool),
        starts,
        found,
        np.array(j.losses(), dtype=np.float32),
        np.array(j.gradNorms(), dtype=np.float64),
        np.array([list(s) for s in j.gradSq()], dtype=np.float32).reshape(steps, len(names)),
        _named(names, shapes, j.startGrads) or {},
        [_step(f, names, shapes) for f in j.full],
    )


def epoch_starts(dataset: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> tuple[list[int], str]:
    """The steps that began an epoch, and how they were found.

    ``dataset[i]``: the loop asked a DJL ``Dataset`` for its data before step ``i``. Without any
    such call (a loop over a ``List<NDList>``), the epoch length is the smallest period ``p`` that
    divides the number of steps and repeats the batches: ``xs[i] == xs[i - p]`` and the same for
    ``ys``, for every ``i >= p``. A loop whose batches never repeat is one epoch.
    """
    if dataset.any():
        return [int(i) for i in np.flatnonzero(dataset)], DATASET
    n = len(xs)
    for p in range(1, n + 1):
        if n % p == 0 and np.array_equal(xs[p:], xs[: n - p]) and np.array_equal(ys[p:], ys[: n - p]):
            return list(range(0, n, p)), INPUT_PERIOD
    return [], INPUT_PERIOD  # no steps
