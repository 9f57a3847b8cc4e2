"""`djl-parity train`: the notebook's training on one side, its printed lines, metrics.json and perplexity.png."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from djl_bridge.config import RunConfig
from djl_bridge.outputs import staged_outputs, write_json
from djl_bridge.sides import java, port
from djl_bridge.trace import Request, Trace

SCHEMA = "djl-parity/metrics/2"
EpochCallback = Callable[[int, float, float], None]


def train(impl: str, engine: str, cfg: RunConfig, data: Path, on_epoch: EpochCallback | None = None) -> Trace:
    """Train on the port (reproducing ``engine``'s behaviours) or on our Java helpers on ``engine`` (a worker)."""
    request = Request(cfg, str(data), full_steps=0)
    if impl == "python":
        return port.run(replace(request, config=cfg.emulating(engine)), on_epoch)
    return java.run(request, engine, on_epoch)


def animator_points(perplexities: list[float]) -> tuple[list[int], list[float]]:
    """The points the notebook's animator plots: every 10th epoch (every epoch for short runs)."""
    step = 10 if len(perplexities) >= 10 else 1
    epochs = list(range(step, len(perplexities) + 1, step))
    return epochs, [perplexities[e - 1] for e in epochs]


def write_run(impl: str, cfg: RunConfig, trace: Trace, out_dir: Path) -> None:
    """metrics.json (config, per-epoch perplexity and tokens/s, every step's loss, vocabulary, offset, the
    printed lines) and perplexity.png, written whole or not at all."""
    from djl_bridge.plots import plot_perplexity

    metrics = {
        "schema": SCHEMA,
        "impl": impl,
        "side": trace.side,
        "config": asdict(cfg),
        "offset": trace.data.offset if trace.data else None,
        "vocab": trace.data.vocab if trace.data else [],
        "perplexities": trace.perplexities,
        "speeds": trace.speeds,
        "losses": trace.losses,
        "printed": trace.printed,
        "predictions": trace.predictions,
        "deviations": trace.deviations,
        "environment": trace.environment,
    }
    with staged_outputs(out_dir) as stage:
        write_json(stage / "metrics.json", metrics)
        epochs, ppl = animator_points(trace.perplexities)
        plot_perplexity(epochs, {f"{impl} ({trace.side})": ppl}, stage / "perplexity.png")
