"""How much memory a run needs at least, checked against what the machine has before any side starts.

The parameter count is computed in closed form from the model's shapes (``models.build_model``).
Each side holds the parameters, their gradients and the trace's copies of them (initial weights
twice, step 1's gradients before and after clipping, the parameters after step 1, the final ones,
and two in transit, the worker's message written and read: :data:`COPIES` in all), plus one
training step's activations: the one-hot input, every recurrent layer's saved gates and states,
and the logits with their log-softmax and gradient. This is a lower bound (no allocator slack, no
JVM or library overhead): a run refused by it cannot fit.
"""

from __future__ import annotations

from dataclasses import dataclass

#: float32 copies of the parameters one side holds: weights, gradients, six in the trace, two in transit.
COPIES = 10
_GATES = {"rnn": 1, "gru": 3, "lstm": 4}
GIB = 2**30


@dataclass(frozen=True)
class Footprint:
    """The memory of one run: parameters per side, bytes per side, sides."""

    parameters: int
    activations_bytes: int
    sides: int

    @property
    def total_bytes(self) -> int:
        return self.sides * (4 * COPIES * self.parameters + self.activations_bytes)

    def describe(self) -> str:
        return (
            f"at least {self.total_bytes / GIB:.1f} GiB ({self.parameters:,} parameters, their gradients and "
            f"the trace's copies on each of {self.sides} side(s), plus "
            f"{self.activations_bytes / GIB:.2f} GiB of one step's activations each)"
        )


def _kind(model: str) -> str:
    base = model.removesuffix("-scratch")
    return base if base in _GATES else "rnn" if model == "birnn-hand" else "lstm"


def parameter_count(model: str, vocab_size: int, hidden: int, layers: int, bias: bool, learn_boundary: bool) -> int:
    """The model's parameter count in closed form (exact Python ints for any size; ``models.build_model``
    is the shapes' home, and a test holds this to it)."""
    v, h = vocab_size, hidden
    if model == "birnn-hand":
        return 2 * (v * h + h * h) + 2 * h * v + (2 * h + v if bias else 0) + (2 * h if learn_boundary else 0)
    gates = _GATES[_kind(model)]
    if model.endswith("-scratch"):
        return gates * (v * h + h * h + h) + h * v + v
    dirs = 2 if model == "bilstm" else 1
    first = dirs * gates * h * (v + h + 2)
    later = (layers - 1) * dirs * gates * h * (dirs * h + h + 2)
    return first + later + v * dirs * h + v


def footprint(cfg, vocab_size: int, sides: int) -> Footprint:
    """The memory ``cfg`` (resolved) needs on ``sides`` sides at least."""
    dirs = 2 if cfg.model in ("bilstm", "birnn-hand") else 1
    rows = cfg.batch_size * cfg.num_steps
    per_unit = 2 * _GATES[_kind(cfg.model)] + 4  # gate pre-activations and activations, states, output
    activations = 4 * rows * (4 * vocab_size + cfg.hidden * dirs * cfg.layers * per_unit)
    params = parameter_count(cfg.model, vocab_size, cfg.hidden, cfg.layers, cfg.bias, cfg.learn_boundary)
    return Footprint(params, activations, sides)


def available_bytes() -> int:
    """Memory this process can still take: MemAvailable, or the cgroup's limit left when lower."""
    with open("/proc/meminfo") as f:
        available = next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        with open("/sys/fs/cgroup/memory.current") as f:
            used = int(f.read())
        if limit != "max":
            available = min(available, int(limit) - used)
    except OSError:
        pass
    return max(available, 0)


def check_fits(cfg, vocab_size: int, sides: int) -> str | None:
    """None when the run fits in memory; otherwise the one-line reason, with the estimate."""
    need = footprint(cfg, vocab_size, sides)
    have = available_bytes()
    if need.total_bytes <= have:
        return None
    return (
        f"these sizes (--hidden {cfg.hidden}, --layers {cfg.layers}, --batch-size {cfg.batch_size}, --num-steps "
        f"{cfg.num_steps}) need {need.describe()}; this machine has {have / GIB:.1f} GiB available"
    )
