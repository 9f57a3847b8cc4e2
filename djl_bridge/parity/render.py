"""The renderings of a report: the terminal table, report.md, a self-contained report.html, report.json."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from djl_bridge.outputs import staged_outputs, write_json
from djl_bridge.parity.compare import NOT_COMPARED
from djl_bridge.parity.report import FAIL, INCOMPLETE, PASS, Report

ZERO_FLOOR = 1e-12  # where an exact zero difference is drawn on a log axis


def _fmt(x: float) -> str:
    return "0" if x == 0 else f"{x:.3g}"


def stage_rows(report: Report) -> list[list[str]]:
    head = [
        "stage",
        "verdict",
        "tolerance",
        "elements",
        "differing",
        "max |Δ|",
        "max rel",
        "max ULP",
        "first out of tolerance",
        "cause / note",
    ]
    rows = []
    for s in report.stages:
        numbers = (
            ["-"] * 5
            if s.status == NOT_COMPARED
            else [str(s.count), str(s.mismatched), _fmt(s.max_abs), _fmt(s.max_rel), str(s.max_ulp)]
        )
        note = s.note if len(s.note) <= 90 else s.note[:87] + "..."
        rows.append(
            [s.stage, s.status, s.tolerance, *numbers, s.first_bad or "", " — ".join(x for x in (s.cause, note) if x)]
        )
    return [head, *rows]


def grad_rows(report: Report) -> list[list[str]]:
    stage = next((s for s in report.stages if s.stage == "step1.grads"), None)
    if stage is None:
        return []
    rows = [
        [d["name"], str(d["count"]), str(d["mismatched"]), _fmt(d["max_abs"]), _fmt(d["max_rel"]), str(d["max_ulp"])]
        for d in stage.details
    ]
    return [["parameter", "elements", "differing", "max |Δ|", "max rel", "max ULP"], *rows]


def _md_table(rows: list[list[str]]) -> str:
    if not rows:
        return "_none_\n"
    esc = [[c.replace("|", "\\|") for c in r] for r in rows]
    lines = ["| " + " | ".join(esc[0]) + " |", "|" + "---|" * len(esc[0])]
    lines += ["| " + " | ".join(r) + " |" for r in esc[1:]]
    return "\n".join(lines) + "\n"


def to_markdown(report: Report) -> str:
    cfg = report.config
    out = [
        f"# djl-parity: {report.title}\n",
        f"**{report.verdict()}**\n",
        f"{report.init}\n",
        "## Stages\n",
        _md_table(stage_rows(report)),
    ]
    if report.causes():
        out += ["\n## Named causes\n"] + [
            f"- **{c['name']}**: {c['cause']}. Symptom: {c['symptom']} (shown by `{c['shown_by']}`)\n"
            for c in report.causes()
        ]
    if report.deviations:
        out += ["\n## Deviations from the published notebook\n"] + [f"- {d}\n" for d in report.deviations]
    if report.findings:
        out += ["\n## Findings\n"] + [f"- {f}\n" for f in report.findings]
    if report.not_compared:
        out += ["\n## Not compared\n"] + [f"- {n}\n" for n in report.not_compared]
    out += ["\n## Gradients of the first step, per parameter\n", _md_table(grad_rows(report))]
    if report.predictions:
        out += [
            "\n## Predictions\n",
            _md_table(
                [["prefix", "java (DJL)", "python (PyTorch)"]]
                + [[p, v.get("java", ""), v.get("python", "")] for p, v in report.predictions.items()]
            ),
        ]
    out += ["\n## Environment\n"] + [f"- {k}: {v}\n" for k, v in report.environment.items()]
    out += ["\n## Configuration\n"] + [f"- {k}: {v}\n" for k, v in cfg.items()]
    return "".join(out)


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def figures(report: Report) -> dict[str, str]:
    """Base64 PNGs: the perplexity curves overlaid, and the per-step loss difference on a log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    out = {}
    ppl = report.series.get("perplexity", {})
    java_ppl, python_ppl = ppl.get("java", []), ppl.get("python", [])
    if java_ppl or python_ppl:
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        ax.plot(range(1, len(java_ppl) + 1), java_ppl, "o-", label="Java (DJL)", lw=3, alpha=0.6)
        ax.plot(range(1, len(python_ppl) + 1), python_ppl, "x--", label="Python (PyTorch port)")
        band = report.bands.get("perplexity", [])[: len(python_ppl)]
        if band:
            xs, ys = range(1, len(band) + 1), python_ppl[: len(band)]
            ax.fill_between(
                xs,
                [y - b for y, b in zip(ys, band)],
                [y + b for y, b in zip(ys, band)],
                color="tab:green",
                alpha=0.25,
                label="envelope (allowed |Δ|)",
            )
        ax.set(xlabel="epoch", ylabel="perplexity", title="Training perplexity per epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
        out["perplexity"] = _png(fig)
        plt.close(fig)
    losses = report.series.get("step_loss", {})
    java_loss, python_loss = losses.get("java", []), losses.get("python", [])
    n = min(len(java_loss), len(python_loss))
    if n:
        diffs = [abs(a - b) for a, b in zip(java_loss[:n], python_loss[:n])]
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        ax.semilogy(range(1, n + 1), [max(d, ZERO_FLOOR) for d in diffs], "o-", ms=3)
        band = report.bands.get("step_loss", [])[:n]
        if band:
            ax.semilogy(range(1, len(band) + 1), band, "-", color="tab:green", label="envelope (allowed |Δ|)")
            ax.legend()
        ax.axhline(ZERO_FLOOR, color="grey", lw=0.8, ls=":")
        ax.text(1, ZERO_FLOOR * 1.6, "bottom line = identical (difference 0)", fontsize=8, color="grey")
        ax.set(xlabel="training step", ylabel="|loss Java − loss Python|", title="Per-step loss difference")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3, which="both")
        out["step_loss"] = _png(fig)
        plt.close(fig)
    return out


def _html_table(rows: list[list[str]], status_col: int | None = None) -> str:
    if not rows:
        return "<p><em>none</em></p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = []
    for r in rows[1:]:
        cls = ""
        if status_col is not None:
            cls = {"identical": "ok", "within tolerance": "ok", "explained": "expl", "not compared": "skip"}.get(
                r[status_col], "bad"
            )
        body.append(f"<tr class='{cls}'>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _html_list(title: str, items) -> str:
    """A titled list of HTML items (already escaped); nothing when there are none."""
    items = list(items)
    return f"<h2>{title}</h2><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>" if items else ""


def to_html(report: Report) -> str:
    figs = figures(report)
    cfg = report.config
    verdict_cls = {PASS: "ok", FAIL: "bad", INCOMPLETE: "skip"}[report.outcome]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>djl-parity: {html.escape(report.title)}</title><style>",
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}",
        "table{border-collapse:collapse;font-size:13px;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;",
        "padding:3px 6px;text-align:left}th{background:#f3f3f3}tr.ok td:nth-child(2){color:#17692d}",
        "tr.expl td:nth-child(2){color:#8a5a00}tr.skip td:nth-child(2){color:#555;font-style:italic}",
        "tr.bad td:nth-child(2){color:#b00020;font-weight:bold}",
        ".verdict{padding:.8em 1em;border-radius:6px;font-size:1.1em}.verdict.ok{background:#e5f5e9}",
        ".verdict.bad{background:#fde8ea}.verdict.skip{background:#fff4d6}",
        "code{background:#f3f3f3;padding:0 3px}</style></head><body>",
        f"<h1>djl-parity: {html.escape(report.title)}</h1>",
        f"<p class='verdict {verdict_cls}'>{html.escape(report.verdict())}</p>",
        f"<p>{html.escape(report.init)}</p>",
        "<h2>Stages</h2>",
        _html_table(stage_rows(report), status_col=1),
    ]
    causes = [
        f"<b>{html.escape(c['name'])}</b>: {html.escape(c['cause'])} Symptom: {html.escape(c['symptom'])} "
        f"(shown by <code>{html.escape(c['shown_by'])}</code>)"
        for c in report.causes()
    ]
    parts.append(_html_list("Named causes", causes))
    parts.append(_html_list("Deviations from the published notebook", map(html.escape, report.deviations)))
    parts.append(_html_list("Findings", map(html.escape, report.findings)))
    parts.append(_html_list("Not compared", map(html.escape, report.not_compared)))
    if report.figures_html:
        parts.append("<h2>Figures the notebook showed</h2>" + report.figures_html)
    for key, title in (("perplexity", "Perplexity, both sides"), ("step_loss", "Per-step loss difference")):
        if key in figs:
            parts.append(f"<h2>{title}</h2><img alt='{title}' src='data:image/png;base64,{figs[key]}'>")
    parts += ["<h2>Gradients of the first step, per parameter</h2>", _html_table(grad_rows(report))]
    if report.predictions:
        parts += [
            "<h2>Predictions</h2>",
            _html_table(
                [["prefix", "Java (DJL)", "Python (PyTorch)"]]
                + [[p, v.get("java", ""), v.get("python", "")] for p, v in report.predictions.items()]
            ),
        ]
    parts += [
        "<h2>Environment</h2>",
        _html_table([["what", "value"]] + [[k, str(v)] for k, v in report.environment.items()]),
        "<h2>Configuration</h2>",
        _html_table([["setting", "value"]] + [[k, str(v)] for k, v in cfg.items()]),
        "</body></html>",
    ]
    return "\n".join(parts)


def write_report_files(report: Report, folder: Path) -> None:
    """report.json, report.md and report.html into ``folder`` (a staging folder)."""
    write_json(folder / "report.json", report.as_json())
    (folder / "report.md").write_text(to_markdown(report))
    (folder / "report.html").write_text(to_html(report))


def write_report(report: Report, out_dir: Path) -> None:
    """report.json, report.md and report.html, written whole or not at all."""
    with staged_outputs(out_dir) as stage:
        write_report_files(report, stage)
