"""The notebook animator's picture: training perplexity against epoch."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

from djl_bridge.outputs import check_png_path

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_perplexity(epochs: list[int], series: dict[str, list[float]], path: str | Path) -> None:
    """Draw one line per series (e.g. "port", "djl") over ``epochs``; write ``path`` atomically."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for label, values in series.items():
        ax.plot(epochs[: len(values)], values, label=label)
    ax.set(xlabel="epoch", ylabel="perplexity")
    ax.grid(True)
    if len(series) > 1:
        ax.legend()
    fig.tight_layout()
    save_figure(fig, path)


def save_figure(fig: plt.Figure, path: str | Path) -> None:
    """Write ``fig`` to ``path`` atomically (staged next to it, then moved in) and close it."""
    path = Path(path)
    check_png_path(path, "picture")
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    try:
        fig.savefig(tmp)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)
