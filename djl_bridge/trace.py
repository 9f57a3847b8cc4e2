"""What a side is asked to do (:class:`Request`) and everything it did (:class:`Trace`), in DJL names.

A side (the port, our Java helpers on a DJL engine, a notebook in JShell) turns a request into a
trace and returns it complete: nothing is added to a trace afterwards. A trace is plain data
(numpy arrays, lists, strings), so the worker's wire format (``sides/wire.py``) carries it, and the
parity layer only reads traces. Parameters and gradients are keyed by DJL's parameter names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from djl_bridge.config import RunConfig

Arrays = dict[str, np.ndarray]
PREFIXES = ("time traveller", "traveller")
NUM_PREDS = 50


@dataclass(frozen=True)
class Feed:
    """Batches to train on instead of the dataset's (a notebook's recorded loop): every step's input and
    labels, whether its state is carried from the step before (else it starts fresh), and where epochs begin."""

    xs: np.ndarray
    ys: np.ndarray
    carried: np.ndarray
    epoch_starts: list[int]

    def epochs(self) -> list[range]:
        """The step indices of each epoch."""
        bounds = [*self.epoch_starts, len(self.xs)]
        return [range(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


@dataclass(frozen=True)
class Request:
    """One run of a side: the config, the text, the initial weights ("draw your own" when None), what to record."""

    config: RunConfig
    data: str
    init: Arrays | None = None
    #: steps recorded in full (logits, state, gradients, parameters); every step's scalars are always recorded
    full_steps: int = 1
    #: the Java side also runs the published bi-LSTM's first forward without the layout fix
    probe: bool = False
    #: carry the state as the published loop does (its stopGradient() result dropped) instead of detached
    discard_stop_gradient: bool = False
    feed: Feed | None = None
    #: the gradients the parameters start with (a recorded loop's, left by the notebook's earlier loops: DJL's
    #: PyTorch engine adds a scratch model's gradients up across batches and loops); None: zero
    init_grads: Arrays | None = None
    #: the port also computes step 1's logits reading DJL's parameters by name in libtorch's layout
    layout_logits: bool = False
    #: the port feeds every batch's rows in reverse order (the same maths, every sum over rows in another order:
    #: the rounding another engine's kernels bring); its recorded arrays are put back in the batch's order
    reversed_rows: bool = False


@dataclass(frozen=True)
class Data:
    """The text and data stages: cleaned lines, tokens, vocabulary, corpus, the offset and the batches."""

    lines: list[str]
    tokens: list[str]
    vocab: list[str]
    corpus: list[int]
    offset: int
    batches_x: np.ndarray
    batches_y: np.ndarray


@dataclass(frozen=True)
class Step:
    """One training step in full."""

    logits: np.ndarray
    state: Arrays
    loss: np.ndarray
    grads: Arrays
    grad_norm: np.ndarray
    clipped_grads: Arrays
    params_after: Arrays


@dataclass(frozen=True)
class Failure:
    """A Java exception or a notebook cell that failed: class, message, stack trace, where, and its root cause."""

    java_class: str
    message: str
    stack_trace: str = ""
    where: str = ""  # "cell 3 line 5" for a notebook
    frames: list[str] = field(default_factory=list)  # "method (origin line N)", innermost first

    def root(self) -> tuple[str, str]:
        """(class, message) of the innermost 'Caused by' of the stack trace, or of the failure itself."""
        causes = [ln.strip()[len("Caused by: ") :] for ln in self.stack_trace.splitlines() if "Caused by: " in ln]
        if not causes:
            return self.java_class, self.message
        java_class, _, message = causes[-1].partition(": ")
        return java_class, message

    def root_cause(self) -> str:
        java_class, message = self.root()
        return f"{java_class}: {message}"


@dataclass(frozen=True)
class Trace:
    """One side's run, complete: data stages, initial weights, steps, epochs, final state, printed lines."""

    side: str
    environment: dict[str, str]
    data: Data | None = None
    #: the weights this side drew from the seed by its own code
    init_own: Arrays = field(default_factory=dict)
    #: the weights training started from (``init_own``, or the request's, copied exactly)
    init: Arrays = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    #: every step: the float32 loss, the gradient norm, and each parameter's squared gradient sum
    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    grad_sq: list[list[float]] = field(default_factory=list)
    perplexities: list[float] = field(default_factory=list)
    speeds: list[float] = field(default_factory=list)
    final: Arrays = field(default_factory=dict)
    predictions: dict[str, str] = field(default_factory=dict)
    #: the notebook's final lines: "perplexity: ..., ... tokens/sec on cpu()" and the two predictions
    printed: list[str] = field(default_factory=list)
    #: the published bi-LSTM's first forward (``Request.probe``): None when it ran
    published_failure: Failure | None = None
    failure: Failure | None = None
    deviations: list[str] = field(default_factory=list)
    #: the port: step 1's logits read in libtorch's layout (``Request.layout_logits``)
    layout_logits: np.ndarray | None = None
    #: what the side found beyond the stages (the hand-derived bi-RNN's causal perplexity)
    findings: list[str] = field(default_factory=list)
    #: what running the side cost, in seconds and megabytes (a worker's start, its messages)
    costs: dict[str, float] = field(default_factory=dict)

    @property
    def param_names(self) -> list[str]:
        return list(self.init)


def joined_tokens(tokens: list[list[str]]) -> list[str]:
    """One string per line, its tokens separated by U+241F, so token lists compare as strings."""
    return ["\u241f".join(map(str, line)) for line in tokens]


def java_1f(value: float) -> str:
    """Java's ``%.1f``: the exact binary value rounded HALF_UP."""
    return str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def printed_lines(perplexity: float, speed: float, device: str, predictions: dict[str, str]) -> list[str]:
    """What trainCh8 prints at the end: the perplexity line (Java's %.1f) and the two predictions."""
    head = f"perplexity: {java_1f(perplexity)}, {java_1f(speed)} tokens/sec on {device}"
    return [head, *(predictions[p] for p in PREFIXES)]
