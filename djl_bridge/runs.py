"""One notebook run on one side (the PyTorch port or real DJL), and its output files."""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from djl_bridge.config import RunConfig
from djl_bridge.outputs import staged_outputs, write_json
from djl_bridge.trace import PREFIXES

EpochCallback = Callable[[int, float, float], None]


@dataclass
class RunResult:
    """What a run of the notebook produced, the same fields for both sides."""

    impl: str
    config: dict
    device: str
    offset: int
    vocab: list[str]
    perplexities: list[float]
    speeds: list[float]
    final_line: str
    predictions: dict[str, str]
    deviations: list[str] = field(default_factory=list)
    environment: dict = field(default_factory=dict)

    def printed_lines(self) -> list[str]:
        """The lines the notebook prints at the end of training."""
        return [self.final_line, *(self.predictions[p] for p in PREFIXES)]


def _python_environment() -> dict:
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__}


def run_python(cfg: RunConfig, data: Path, on_epoch: EpochCallback | None = None) -> RunResult:
    """Run the notebook on the PyTorch port."""
    from djl_bridge.dataset import TimeMachineDataset
    from djl_bridge.device import djl_device_name, resolve_device
    from djl_bridge.params import seeded_model
    from djl_bridge.text import load_corpus_time_machine
    from djl_bridge.training import train_ch8

    cfg = cfg.resolved()
    device = resolve_device(cfg.device)
    corpus, vocab = load_corpus_time_machine(data, cfg.max_tokens)
    dataset = TimeMachineDataset(
        corpus, cfg.batch_size, cfg.num_steps, offset=cfg.offset, random_sample=cfg.random_iter, seed=cfg.seed
    )
    net = seeded_model(
        cfg.model, len(vocab), cfg.hidden, cfg.layers, cfg.seed, cfg.bias, cfg.learn_boundary, cfg.port_engine
    )
    net.to(device)
    result = train_ch8(
        net,
        dataset,
        vocab,
        cfg.lr,
        cfg.epochs,
        device,
        use_random_iter=cfg.random_iter,
        mode=cfg.mode,
        on_epoch=on_epoch,
        zero_scratch_grads=cfg.port_engine == "mxnet",
    )
    return RunResult(
        "python",
        cfg.as_dict(),
        djl_device_name(device),
        dataset.offset,
        list(vocab.idx_to_token),
        list(result.perplexities),
        list(result.speeds),
        result.final_line,
        dict(zip(PREFIXES, result.predictions)),
        environment=_python_environment(),
    )


def animator_points(perplexities: list[float]) -> tuple[list[int], list[float]]:
    """The points the notebook's animator plots: every 10th epoch (every epoch for short runs)."""
    step = 10 if len(perplexities) >= 10 else 1
    epochs = list(range(step, len(perplexities) + 1, step))
    return epochs, [perplexities[e - 1] for e in epochs]


def write_run(result: RunResult, out_dir: Path) -> None:
    """metrics.json and perplexity.png, written whole or not at all."""
    from djl_bridge.plots import plot_perplexity

    with staged_outputs(out_dir) as stage:
        write_json(stage / "metrics.json", {"schema": "djl-parity/metrics/1", **asdict(result)})
        epochs, ppl = animator_points(result.perplexities)
        plot_perplexity(epochs, {f"{result.impl} ({result.device})": ppl}, stage / "perplexity.png")
