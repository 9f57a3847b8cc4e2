"""The figures a notebook showed, as plain data: read from the JVM, drawn as PNGs, shown as HTML.

A figure is a Tablesaw ``Figure`` the notebook passed to ``display``/``updateDisplay``/``render``
(``updateDisplay(id, ...)`` replaces that display's figure) or a cell's value; the shell records
each one's data when it is shown (``org.djlparity.notebook.standins.Recording``). Here it becomes
a :class:`Figure` (its cell, how it was shown, the layout's titles, every :class:`Trace`'s kind,
name, mode, values and histogram bins), which travels from a worker as its fields and is drawn
with matplotlib, offline. Nothing here needs torch.
"""

from __future__ import annotations

import base64
import functools
import html
import io
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Trace:
    """One trace: kind (``scatter``, ``histogram``, ``bar``, ...), name, mode (``lines``, ``markers``, ...),
    x values (numbers, or text labels), y values (empty when it has none) and the histogram bins given (0: none)."""

    kind: str
    name: str
    mode: str
    x: tuple[float | str, ...]
    y: tuple[float, ...]
    bins: int = 0


@dataclass(frozen=True)
class Figure:
    """One shown figure: its cell, how it was shown (``display``, or ``value``: the cell's value), its
    display id, the layout's title and axis titles, and its traces."""

    cell: int
    shown: str
    display_id: str
    title: str
    x_title: str
    y_title: str
    traces: tuple[Trace, ...]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Figure:
        """A figure from its fields (as :func:`dataclasses.asdict` or a worker's message gives them)."""
        traces = tuple(
            Trace(t["kind"], t["name"], t["mode"], tuple(t["x"]), tuple(float(v) for v in t["y"]), int(t["bins"]))
            for t in d["traces"]
        )
        fields = (d["title"], d["x_title"], d["y_title"])
        return cls(int(d["cell"]), str(d["shown"]), str(d["display_id"]), *fields, traces)


def _values(array: Any) -> tuple[float, ...]:
    return () if array is None else tuple(np.asarray(array, dtype=np.float64).tolist())


def read_figures(shown: Any) -> list[Figure]:
    """The figures of ``Recording.figures()`` (a Java list of ``Recording.Shown``), in the order first shown."""
    out = []
    for s in shown:
        f = s.figure
        traces = tuple(
            Trace(
                str(t.kind),
                str(t.name),
                str(t.mode),
                _values(t.x) if t.x is not None else tuple(str(v) for v in (t.xText or [])),
                _values(t.y),
                int(t.bins),
            )
            for t in f.traces
        )
        out.append(Figure(int(s.cell), str(s.how), str(s.id), str(f.title), str(f.xTitle), str(f.yTitle), traces))
    return out


def file_names(figures: list[Figure]) -> list[str]:
    """``figure-<cell>-<n>.png`` for each figure, ``n`` counting the figures of its cell from 1."""
    seen: dict[int, int] = {}
    names = []
    for f in figures:
        seen[f.cell] = seen.get(f.cell, 0) + 1
        names.append(f"figure-{f.cell}-{seen[f.cell]}.png")
    return names


@functools.lru_cache(maxsize=64)
def png_bytes(figure: Figure) -> bytes:
    """The figure drawn by matplotlib (lines, markers, histograms, bars), as PNG bytes."""
    from djl_bridge.plots import plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    try:
        _draw(ax, figure.traces)
        ax.set(title=figure.title, xlabel=figure.x_title, ylabel=figure.y_title)
        if any(t.name for t in figure.traces):
            ax.legend()
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
    finally:
        plt.close(fig)
    return buffer.getvalue()


def _draw(ax: Any, traces: tuple[Trace, ...]) -> None:
    histograms = [t for t in traces if t.kind == "histogram"]
    if histograms:
        bins = next((t.bins for t in histograms if t.bins > 0), "auto")
        ax.hist([np.asarray(t.x, dtype=float) for t in histograms], bins=bins, label=[t.name for t in histograms])
    undrawn = []
    for t in traces:
        if t.kind == "scatter" and t.y:
            dots = "markers" in t.mode or not t.mode or len(t.y) == 1  # a one-point line shows as its point
            style = ("-" if "lines" in t.mode else "") + ("o" if dots else "")
            n = min(len(t.x), len(t.y))  # plotly draws the common length of unequal x and y
            ax.plot(list(t.x[:n]), list(t.y[:n]), style, label=t.name or None, markersize=3)
        elif t.kind == "bar" and t.y:
            n = min(len(t.x), len(t.y))
            ax.bar([str(v) for v in t.x[:n]], t.y[:n], label=t.name or None)
        elif t.kind != "histogram":
            undrawn.append(f"{t.kind} trace {t.name!r}")
    if undrawn:
        ax.text(0.5, 0.5, "kept as data, not drawn: " + ", ".join(undrawn), ha="center", transform=ax.transAxes)


def caption(figure: Figure, number: int) -> str:
    """``cell 10, figure 1 (the cell's value): title; 2 traces: data (1000 points), ...`` (x values counted)."""
    how = "the cell's value" if figure.shown == "value" else f"display {figure.display_id}"
    traces = ", ".join(f"{t.name or t.kind} ({len(t.x)} points)" for t in figure.traces)
    title = f": {figure.title}" if figure.title else ""
    count = f"{len(figure.traces)} trace{'' if len(figure.traces) == 1 else 's'}"
    return f"cell {figure.cell}, figure {number} ({how}){title}; {count}: {traces}"


def figures_html(figures: list[Figure]) -> str:
    """A self-contained HTML fragment: every figure as an inline PNG with its cell and traces."""
    if not figures:
        return '<section class="djl-parity-figures"><p>The notebook showed no figures.</p></section>\n'
    parts = [
        '<section class="djl-parity-figures">',
        "<style>.djl-parity-figures figure{display:inline-block;margin:0 1em 1em 0;max-width:660px}"
        ".djl-parity-figures img{max-width:100%;border:1px solid #ddd}"
        ".djl-parity-figures figcaption{font:13px sans-serif;color:#333}</style>",
        f"<h2>Figures ({len(figures)})</h2>",
    ]
    for f, name in zip(figures, file_names(figures)):
        number = int(name.rsplit("-", 1)[1].split(".")[0])
        data = base64.b64encode(png_bytes(f)).decode("ascii")
        text = html.escape(caption(f, number))
        parts.append(
            f'<figure id="{name[:-4]}"><img alt="{text}" src="data:image/png;base64,{data}">'
            f"<figcaption>{text}</figcaption></figure>"
        )
    parts.append("</section>\n")
    return "\n".join(parts)
