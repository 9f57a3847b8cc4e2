"""The benchmark's result for people: ratios, the table, the bar chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def ratios(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Each row against ``baseline`` on its device and against ``djl-pytorch``; fast against parity,
    CUDA against CPU, concurrent against sequential sides."""
    speed = {r["name"]: r["tokens_per_s"] for r in rows}
    out = {}
    for name, value in speed.items():
        if name.startswith("sides-"):
            continue
        for ref in ("baseline-cuda" if name.endswith("-cuda") else "baseline", "djl-pytorch"):
            if ref in speed and ref != name:
                out[f"{name}/{ref}"] = value / speed[ref]
    for a, b in (
        ("python-fast", "python-parity"),
        ("python-fast-cuda", "python-parity-cuda"),
        ("python-fast-cuda", "python-fast"),
        ("sides-concurrent", "sides-sequential"),
    ):
        if a in speed and b in speed:
            out[f"{a}/{b}"] = speed[a] / speed[b]
    return out


def table(result: dict[str, Any]) -> list[str]:
    """The human-readable report of :func:`run_bench`'s result."""
    lines = [f"{'row':<20} {'tokens/s':>10} {'x baseline':>10} {'x djl':>7} {'peak':>6} {'spread':>7}"]
    speed = {r["name"]: r["tokens_per_s"] for r in result["rows"]}
    for r in result["rows"]:
        base = speed.get("baseline-cuda" if r["name"].endswith("-cuda") else "baseline")
        djl = speed.get("djl-pytorch")
        lines.append(
            f"{r['name']:<20} {r['tokens_per_s']:>10,.0f} "
            f"{(r['tokens_per_s'] / base) if base else float('nan'):>10.2f} "
            f"{(r['tokens_per_s'] / djl) if djl else float('nan'):>7.2f} "
            f"{r['peak_share']:>6.0%} {r['spread']:>7.0%}"
        )
        if "sides_seconds" in r:
            sides = r["sides_seconds"]
            lines.append(
                f"{'':<20} per epoch: python {sides['python']:.2f} s, java {sides['java']:.2f} s, "
                f"whole {sides['whole']:.2f} s"
            )
    for s in result["skipped"]:
        lines.append(f"{s['name']:<20} skipped: {s['reason']}")
    peaks = ", ".join(f"{d} {g:,.0f} GFLOP/s" for d, g in result["matmul_peak_GFLOPs"].items())
    load = result["load_average_1min"]
    lines.append(
        f"load average (1 min) {load['before']:.1f} before, {load['after']:.1f} after (2 cores: above 2, "
        "other processes shared the CPU)"
    )
    lines.append(
        f"matmul peak (fp32): {peaks}; model {result['model_flops_per_token'] / 1e6:.1f} MFLOP/token "
        f"(forward + backward); {result['threads']} threads, "
        f"OMP_WAIT_POLICY {result['omp_wait_policy']}"
    )
    for name, w in result.get("workers", {}).items():
        lines.append(
            f"{name}: worker process start to engine ready {w['worker_start_s']:.2f} s (JVM {w['jvm_start_s']:.2f} s); "
            f"its messages {w['transfer_MB']:.1f} MB at {w['transfer_GBps']:.2f} GB/s"
        )
    for name, value in result["ratios"].items():
        lines.append(f"ratio {name}: {value:.2f}")
    return lines


def plot(result: dict[str, Any], path: Path) -> None:
    """A bar chart of tokens/s per row, each bar labelled with its share of the matmul peak."""
    from djl_bridge.plots import plt, save_figure

    rows = result["rows"]
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(rows) + 1.2))
    names = [r["name"] for r in rows][::-1]
    speeds = [r["tokens_per_s"] for r in rows][::-1]
    bars = ax.barh(names, speeds, color=["#4c72b0" if n.startswith("python") else "#888888" for n in names])
    for bar, r in zip(bars, rows[::-1]):
        label = f" {r['tokens_per_s']:,.0f} ({r['peak_share']:.0%})"
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, label, va="center", fontsize=8)
    ax.set_xlabel("tokens/s (median after warm-up; share of the fp32 matmul peak)")
    ax.set_xlim(0, max(speeds) * 1.3)
    fig.tight_layout()
    save_figure(fig, path)
