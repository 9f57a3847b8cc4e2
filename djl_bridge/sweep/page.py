"""sweep.html: the index as one self-contained page (inline CSS, no script, no network, relative links)."""

from __future__ import annotations

import html
from urllib.parse import quote

from djl_bridge.sweep import outcomes

COLOURS = {
    outcomes.PASS: "#b9e4c0",
    outcomes.INCOMPLETE: "#fbe7a1",
    outcomes.FAIL: "#f4a6a6",
    outcomes.BAD_INPUT: "#d9c2ec",
    outcomes.ENV_MISSING: "#c9d4dc",
    outcomes.TIMED_OUT: "#f8c58c",
    outcomes.CRASHED: "#d46a6a",
    outcomes.INTERRUPTED: "#dddddd",
}
MEANING = {
    outcomes.PASS: "compared and agreed (train, notebook --no-compare: ran)",
    outcomes.INCOMPLETE: "some stage could not be compared",
    outcomes.FAIL: "a stage differs beyond its bound or without a cause (or the run failed)",
    outcomes.BAD_INPUT: "the command refused its input (exit 2)",
    outcomes.ENV_MISSING: "a part of the environment is missing (exit 3)",
    outcomes.TIMED_OUT: "ran past its timeout twice; its process group was stopped",
    outcomes.CRASHED: "died by a signal or with an unknown exit code, twice",
    outcomes.INTERRUPTED: "the sweep was stopped before the job ended",
}

_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 3px 7px; vertical-align: top; }
th { background: #f2f2f2; text-align: left; } .num { text-align: right; font-variant-numeric: tabular-nums; }
.chip { display: inline-block; padding: 1px 6px; margin: 1px; border-radius: 4px; border: 1px solid #0002;
        color: #111; text-decoration: none; font-size: 12px; white-space: nowrap; }
.muted { color: #666; } .matrix td { min-width: 90px; } code { font-size: 12px; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _anchor(href: str | None, text: str, attrs: str = "") -> str:
    """A link relative to the sweep folder, or a dash where there is nothing to link."""
    return f'<a {attrs}href="{_e(quote(href))}">{_e(text)}</a>' if href else "—"


def _chip(outcome: str, text: str, href: str | None = None, title: str = "") -> str:
    attrs = f'class="chip" style="background:{COLOURS.get(outcome, "#fff")}" title="{_e(title)}" '
    return _anchor(href, text, attrs) if href else f"<span {attrs}>{_e(text)}</span>"


def _link(row: dict) -> str | None:
    """The job's report, else its last attempt's log."""
    if row.get("report"):
        return row["report"]
    return row["attempts"][-1]["log"] if row.get("attempts") else None


def _matrix(rows: list[dict]) -> str:
    subjects = list(dict.fromkeys(r["subject"] for r in rows))
    engines = list(dict.fromkeys(r["engine"] for r in rows))
    head = "<tr><th>notebook or model</th>" + "".join(f"<th>{_e(e)}</th>" for e in engines) + "</tr>"
    body = []
    for subject in subjects:
        cells = []
        for engine in engines:
            here = [r for r in rows if r["subject"] == subject and r["engine"] == engine]
            chips = []
            for r in here:
                rest = [v for k, v in r["labels"].items() if k not in ("notebook", "model", "engine")]
                text = " ".join(rest) or r["name"]
                chips.append(_chip(r["outcome"], text, _link(r), f"{r['name']}: {r['outcome']}"))
            cells.append(f"<td>{''.join(chips)}</td>")
        body.append(f"<tr><th>{_e(subject)}</th>{''.join(cells)}</tr>")
    return f'<table class="matrix">{head}{"".join(body)}</table>'


def _jobs_table(rows: list[dict]) -> str:
    head = (
        "<tr><th>job</th><th>command</th><th>outcome</th><th>attempts</th><th>first divergence / what happened</th>"
        "<th>wall s</th><th>this run</th><th>report</th><th>log</th></tr>"
    )
    body = []
    for r in rows:
        said = r["first_divergence"] or r["detail"] or r["headline"]
        attempts = " then ".join(a["outcome"] for a in r["attempts"]) or "—"
        log = r["attempts"][-1]["log"] if r["attempts"] else None
        cells = [
            f"<td>{_e(r['name'])}</td>",
            f"<td><code>{_e(' '.join([r['command'], *r['args']]))}</code></td>",
            f"<td>{_chip(r['outcome'], r['outcome'])}</td>",
            f"<td>{_e(attempts)}</td>",
            f"<td>{_e(said)}</td>",
            f'<td class="num">{r["wall_s"]:.1f}</td>',
            f"<td>{'ran' if r['ran'] else ('reused' if r['attempts'] else '—')}</td>",
            f"<td>{_anchor(r['report'], 'report')}</td>",
            f"<td>{_anchor(log, 'log')}</td>",
        ]
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table>{head}{''.join(body)}</table>"


def to_html(index: dict) -> str:
    """The whole page for ``index`` (sweep.json's content)."""
    rows = index["jobs"]
    counts = " ".join(_chip(o, f"{o} {n}") for o, n in index["counts"].items())
    ray = index.get("ray")
    ray_line = (
        f"Ray {ray['address']}: {ray['cpus']:g} CPUs, start {ray['start_s']:.1f} s, stop {ray['stop_s']:.1f} s"
        if ray
        else "Ray was not started: every job's result was reused"
    )
    legend = "".join(
        f"<tr><td>{_chip(o, o)}</td><td>{_e(MEANING[o])}</td><td class='num'>{outcomes.EXIT_CODES.get(o, '130/143')}"
        f"</td></tr>"
        for o in outcomes.SEVERITY
    )
    return "\n".join(
        [
            "<!doctype html><html><head><meta charset='utf-8'><title>djl-parity sweep</title>",
            f"<style>{_CSS}</style></head><body>",
            f"<h1>djl-parity sweep: {_chip(index['outcome'], index['outcome'])} (exit {index['exit_code']})</h1>",
            f"<p>{_e(index['spec'])} · {index['jobs_total']} jobs, {index['jobs_ran']} ran, "
            f"{index['jobs_reused']} reused · {index['wall_s']:.1f} s · started {_e(index['started'])}</p>",
            f"<p>{counts}</p>",
            f"<p class='muted'>{_e(ray_line)} · code {_e(index['code_version'])} · data SHA-1 "
            f"{_e(index['data_sha1'])}</p>",
            "<h2>Matrix</h2>",
            _matrix(rows),
            "<h2>Jobs</h2>",
            _jobs_table(rows),
            "<h2>Outcomes, least to most severe (the sweep exits with the worst one's code)</h2>",
            f"<table><tr><th>outcome</th><th>meaning</th><th>exit</th></tr>{legend}</table>",
            "</body></html>",
        ]
    )
