"""Where fast mode's time goes: one epoch under ``torch.profiler``, grouped by op and input shape,
with the arithmetic rate of the recurrent kernels against the machine's measured matmul peak."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: ops whose FLOPs follow from their input shapes: the fused recurrent layer, forward and backward
_RNN_FORWARD = ("aten::mkldnn_rnn_layer", "aten::_cudnn_rnn")
_RNN_BACKWARD = ("aten::mkldnn_rnn_layer_backward", "aten::_cudnn_rnn_backward")


def _rnn_flops(name: str, shapes: list) -> float | None:
    """FLOPs of one call of an LSTM layer kernel for one direction: 2*T*B*4H*(I+H) forward, twice that backward."""
    if name not in _RNN_FORWARD + _RNN_BACKWARD or len(shapes) < 3 or len(shapes[0]) != 3:
        return None
    (steps, batch, inputs), (gates, _), (_, hidden) = shapes[0], shapes[1], shapes[2]
    forward = 2.0 * steps * batch * gates * (inputs + hidden)
    return forward * (2 if name in _RNN_BACKWARD else 1)


def profile_epoch(runner: Any, device: str, top: int = 8) -> list[dict[str, Any]]:
    """Profile one ``runner.epoch()``; the ``top`` (op, input shapes) groups by self time."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    with profile(activities=activities, record_shapes=True) as prof:
        runner.epoch()
    groups = sorted(prof.key_averages(group_by_input_shape=True), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in groups)
    out = []
    for e in groups[:top]:
        shapes = [list(s) for s in e.input_shapes]
        flops = _rnn_flops(e.key, shapes)
        entry = {
            "op": e.key,
            "input_shape": shapes[0] if shapes else [],
            "calls": e.count,
            "self_ms": e.self_cpu_time_total / 1e3,
            "share": e.self_cpu_time_total / total,
        }
        if flops is not None:
            entry["GFLOPs"] = flops * e.count / (e.self_cpu_time_total / 1e6) / 1e9
        out.append(entry)
    return out


def plot_profile(groups: list[dict[str, Any]], peak_gflops: float, title: str, path: Path) -> None:
    """Bars of self time per op group; recurrent kernels labelled with their GFLOP/s and share of the peak."""
    from djl_bridge.plots import plt, save_figure

    fig, ax = plt.subplots(figsize=(9, 0.42 * len(groups) + 1.6))
    labels = [f"{g['op'].replace('aten::', '')} {tuple(g['input_shape'])}" for g in groups][::-1]
    bars = ax.barh(labels, [g["share"] for g in groups][::-1], color="#4c72b0")
    for bar, g in zip(bars, groups[::-1]):
        note = f" {g['self_ms']:.0f} ms"
        if "GFLOPs" in g:
            note += f", {g['GFLOPs']:.0f} GFLOP/s = {g['GFLOPs'] / peak_gflops:.0%} of peak"
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, note, va="center", fontsize=7)
    ax.set_xlabel(
        f"share of self CPU time\n(fp32 matmul peak measured in the same run: {peak_gflops:.0f} GFLOP/s)", fontsize=8
    )
    ax.set_xlim(0, 1)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
