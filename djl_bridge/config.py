"""One run's settings, shared by both sides; defaults reproduce the notebook cell."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

MODELS = ("bilstm", "lstm", "deep-lstm", "gru", "rnn", "rnn-scratch", "gru-scratch", "lstm-scratch", "birnn-hand")

#: (hidden, layers, lr) of the notebook that uses each model; bilstm is the bi-RNN notebook's cell.
MODEL_DEFAULTS: dict[str, tuple[int, int, int]] = {
    "bilstm": (256, 2, 1),
    "lstm": (256, 1, 1),
    "deep-lstm": (256, 2, 2),
    "gru": (256, 1, 1),
    "rnn": (256, 1, 1),
    "rnn-scratch": (512, 1, 1),
    "gru-scratch": (256, 1, 1),
    "lstm-scratch": (256, 1, 1),
    # no notebook: our choice for the hand-trained bi-RNN (docs/birnn-hand.md, "Defaults")
    "birnn-hand": (256, 1, 1),
}


#: Every size, count and seed goes to DJL as a Java ``int`` (``Engine.setRandomSeed(int)`` on every
#: engine, the layer sizes, epochs and learning rate of ``trainCh8``): the range all sides can hold.
JAVA_INT_MIN, JAVA_INT_MAX = -(2**31), 2**31 - 1
#: The options that must be positive Java ints (the seed may be any Java int).
POSITIVE = ("epochs", "lr", "hidden", "layers", "batch_size", "num_steps", "max_tokens")


class ConfigError(ValueError):
    """A setting is out of range; the message names it."""


def check_int(option: str, value: int, low: int = 1, high: int = JAVA_INT_MAX) -> int:
    """``value`` of ``--option`` within [low, high] (default: a positive Java int), else :class:`ConfigError`."""
    if not low <= value <= high:
        if low == 1 and value <= 0:
            raise ConfigError(f"{option} must be positive, got {value}")
        raise ConfigError(f"{option} must be in [{low}, {high}] (a Java int, as DJL takes it), got {value}")
    return value


@dataclass(frozen=True)
class RunConfig:
    """What one notebook run does. ``None`` for hidden/layers/lr means the model's notebook default."""

    model: str = "bilstm"
    epochs: int = 500
    lr: int | None = None
    hidden: int | None = None
    layers: int | None = None
    batch_size: int = 32
    num_steps: int = 35
    max_tokens: int = 10000
    offset: int | None = None
    seed: int = 0
    device: str = "auto"
    mode: str = "parity"
    random_iter: bool = False
    layout_fix: bool = False
    bias: bool = False
    learn_boundary: bool = False
    #: the DJL engine whose behaviours the port reproduces: "pytorch", or "mxnet" (MXNet's flat
    #: recurrent-weight layout, RNNModel.mxnet_flat_weights, and gradients overwritten by each backward)
    port_engine: str = "pytorch"

    def resolved(self) -> RunConfig:
        """The same config with the model's notebook defaults filled in, validated."""
        if self.model not in MODELS:
            raise ConfigError(f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        hidden, layers, lr = MODEL_DEFAULTS[self.model]
        cfg = replace(
            self,
            hidden=hidden if self.hidden is None else self.hidden,
            layers=layers if self.layers is None else self.layers,
            lr=lr if self.lr is None else self.lr,
        )
        for name in POSITIVE:
            check_int(f"--{name.replace('_', '-')}", getattr(cfg, name))
        check_int("--seed", cfg.seed, JAVA_INT_MIN)
        if (cfg.model.endswith("-scratch") or cfg.model == "birnn-hand") and cfg.layers != 1:
            raise ConfigError(f"{cfg.model} has one layer (per direction); drop --layers")
        if (cfg.bias or cfg.learn_boundary) and cfg.model != "birnn-hand":
            raise ConfigError("--bias and --learn-boundary apply to --model birnn-hand only")
        if cfg.offset is not None and not 0 <= cfg.offset < cfg.num_steps:
            raise ConfigError(f"--offset must be in [0, num_steps={cfg.num_steps}), got {cfg.offset}")
        if cfg.port_engine not in ("pytorch", "mxnet"):
            raise ConfigError(f"port engine must be pytorch or mxnet, got {cfg.port_engine!r}")
        if cfg.mode not in ("parity", "fast"):
            raise ConfigError(f"--mode must be parity or fast, got {cfg.mode!r}")
        return cfg

    def as_dict(self) -> dict:
        return asdict(self)

    def emulating(self, engine: str) -> RunConfig:
        """The port's config next to a Java side on ``engine``: it reproduces that engine's behaviours."""
        return replace(self, port_engine="mxnet" if engine == "mxnet" else "pytorch")


def text_sizes(data: Path) -> tuple[int, int]:
    """The whole text's corpus length (before ``--max-tokens``) and its vocabulary's size."""
    from djl_bridge.text import load_corpus_time_machine

    corpus, vocab = load_corpus_time_machine(data)
    return len(corpus), len(vocab)


def validated(cfg: RunConfig, data: Path, sides: int = 2) -> RunConfig:
    """THE validation of a run: the options, then the options against the text and the machine's memory
    (for ``sides`` sides). Used before any side runs.

    The dataset needs at least one window of ``batch_size x num_steps`` tokens after the offset
    (the worst offset, ``num_steps - 1``, when the offset is drawn at random), plus the label shift.
    """
    from djl_bridge.footprint import check_fits

    cfg = cfg.resolved()
    total, vocab_size = text_sizes(data)
    if cfg.max_tokens > total:
        raise ConfigError(f"--max-tokens {cfg.max_tokens} exceeds the corpus of {total} tokens")
    offset = cfg.num_steps - 1 if cfg.offset is None else cfg.offset
    needed = cfg.batch_size * cfg.num_steps + offset + 1
    if cfg.max_tokens < needed:
        at = f"offset {cfg.offset}" if cfg.offset is not None else f"the largest random offset ({offset})"
        raise ConfigError(
            f"--batch-size {cfg.batch_size} x --num-steps {cfg.num_steps} needs at least {needed} tokens "
            f"(one window per batch row, from {at}, plus the label shift); --max-tokens is {cfg.max_tokens}"
        )
    too_big = check_fits(cfg, vocab_size, sides)
    if too_big is not None:
        raise ConfigError(too_big)
    return cfg
