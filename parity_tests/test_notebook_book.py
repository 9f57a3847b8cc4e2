"""The book's plotting and data, for real: Tablesaw from Maven Central, every figure kept, data files offline.

Our own notebooks in the book's format (parity_tests/notebooks/chapter): `plotting.ipynb` loads real
Tablesaw with `%%loadFromPOM` through our `plot-utils` helper and shows figures with `display`,
`updateDisplay` and as a cell's value; `translation-data.ipynb` downloads the D2L English-French
archive as the translation chapter does. Real Maven, a real JVM on both DJL sides, real Tablesaw.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from djl_bridge.notebook.cells import NotebookError
from djl_bridge.notebook.figures import Figure, Trace, figures_html, file_names, png_bytes
from djl_bridge.notebook.maven import parse_pom
from djl_bridge.notebook.plan import build_plan
from djl_bridge.notebook.resolve import DependencyError, conflicts

HERE = Path(__file__).resolve().parent
BOOK = HERE / "notebooks" / "chapter"
PAIRS_URL = "http://d2l-data.s3-accelerate.amazonaws.com/fra-eng.zip"
SQUARES = [0.0, 1.0, 4.0, 9.0, 16.0]
HALVES = [0.0, 0.5, 1.0, 1.5, 2.0]
STEPS = [0.0, 1.0, 2.0, 3.0, 4.0]
#: What plotting.ipynb shows: (cell, how, title, axis titles, [(kind, name, mode, x, y, bins)]).
EXPECTED = [
    (3, "display", "growth", "step", "size", [("scatter", "x squared", "lines", STEPS, SQUARES, 0),
                                               ("scatter", "x / 2", "markers", STEPS, HALVES, 0)]),
    (5, "value", "halves", "step", "half", [("scatter", "", "lines", STEPS, HALVES, 0)]),
    (6, "value", "spread", "", "", [("histogram", "lengths", "", [1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 7.0], [], 4)]),
]  # fmt: skip


def run_cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "djl_bridge.cli", "notebook", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=cwd, env={**os.environ, **(env or {})})


def shown(figures: list[Figure]) -> list[tuple]:
    return [
        (f.cell, f.shown, f.title, f.x_title, f.y_title, [(t.kind, t.name, t.mode, list(t.x), list(t.y), t.bins)
                                                          for t in f.traces])
        for f in figures
    ]  # fmt: skip


def pairs_archive(path: Path) -> Path:
    """A stand-in for the English-French archive, made of our own sentences (never the real data)."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("fra-eng/fra.txt", "Good morning.\tBonjour.\nSee you.\tA plus.\n")
    return path


# ---- no JVM ----


def test_load_from_pom_reads_dependency_elements_and_names_the_cell_of_a_bad_one():
    deps = parse_pom(2, "cell 2", "<dependencies><dependency><groupId>a.b</groupId><artifactId>c</artifactId>"
                     "<version>1.0</version><classifier>x</classifier></dependency></dependencies>")  # fmt: skip
    assert [(str(d), d.magic, d.supplied) for d in deps] == [("a.b:c:jar:x:1.0", "%%loadFromPOM", False)]
    for text, message in [
        ("<dependency><groupId>a</groupId>", "cell 2: %%loadFromPOM: not XML"),
        ("<repository/>", "cell 2: %%loadFromPOM: <repository> is not supported"),
        ("<dependency><groupId>a</groupId><artifactId>b</artifactId></dependency>", "without <version>"),
        ("<dependency><groupId>a</groupId><artifactId>b</artifactId><version>1</version><scope>test</scope>"
         "</dependency>", "<scope> in a <dependency> is not supported"),
        ("", "no <dependency> elements"),
    ]:  # fmt: skip
        with pytest.raises(NotebookError, match=re.escape(message)):
            parse_pom(2, "cell 2", text)


def test_resolution_is_cached_and_a_second_plan_runs_no_maven(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = build_plan(BOOK / "plotting.ipynb")  # Maven runs (its own repository holds the jars)
    assert first.classpath.requested == ("tech.tablesaw:tablesaw-jsplot:0.38.1",)
    coords = [a.coordinate for a in first.classpath.artifacts]
    assert coords[0] == "tech.tablesaw:tablesaw-jsplot:0.38.1" and "tech.tablesaw:tablesaw-core:0.38.1" in coords
    assert first.classpath.supplied == ("org.slf4j:slf4j-api:1.7.25",)  # Pebble's; the engine side has its own
    assert all(Path(j).is_file() for j in first.classpath.jars)
    [cached] = list((tmp_path / "cache" / "djl-parity" / "maven").glob("*.json"))
    monkeypatch.setattr("djl_bridge.notebook.resolve.shutil.which", lambda name: None)  # no Maven from here on
    assert build_plan(BOOK / "plotting.ipynb").classpath == first.classpath  # the cache, not Maven
    doc = json.loads(cached.read_text())
    doc["artifacts"][0]["jar"] = str(tmp_path / "gone.jar")  # Maven's repository lost a jar: resolve again
    cached.write_text(json.dumps(doc))
    with pytest.raises(DependencyError, match=r"^%%loadFromPOM tech.tablesaw:tablesaw-jsplot:0.38.1 \(cell 1\): Maven"):
        build_plan(BOOK / "plotting.ipynb")


def test_tablesaw_shares_only_annotation_classes_with_either_djl_side():
    from djl_bridge.jvm.runtime import classpath

    tablesaw = build_plan(BOOK / "plotting.ipynb").classpath
    on_pytorch = conflicts(tablesaw, classpath("pytorch"), "pytorch")
    assert [n.split(":")[:3] for n in on_pytorch] == [["com.google.errorprone", "error_prone_annotations", "2.3.4"]]
    assert "error_prone_annotations-2.38.0.jar" in on_pytorch[0]  # gson's, on DJL 0.35.1
    assert conflicts(tablesaw, classpath("mxnet"), "mxnet") == []  # DJL 0.23.0: none
    slf4j = [j for j in classpath("mxnet") if "slf4j-api" in j]  # the one class that would clash is left out
    assert slf4j and conflicts(tablesaw, slf4j, "mxnet") == [] and tablesaw.supplied == ("org.slf4j:slf4j-api:1.7.25",)


def test_figures_are_drawn_and_embedded_with_their_cells():
    line = Figure(
        3,
        "display",
        "display-1",
        "growth",
        "step",
        "size",
        (Trace("scatter", "x squared", "lines", tuple(STEPS), tuple(SQUARES)),),
    )
    hist = Figure(
        3,
        "value",
        "cell-3",
        "",
        "",
        "",
        (Trace("histogram", "h", "", (1.0, 2.0, 2.0), (), 2), Trace("heatmap", "z", "", (), ())),
    )
    bars = Figure(8, "value", "cell-8", "t", "", "", (Trace("bar", "b", "", ("a", "b"), (1.0, 2.0, 3.0)),))
    figures = [line, hist, bars]  # fmt: skip
    assert file_names(figures) == ["figure-3-1.png", "figure-3-2.png", "figure-8-1.png"]
    assert Figure.from_dict(json.loads(json.dumps(hist.to_dict()))) == hist
    html = figures_html(figures)
    for f in figures:
        png = png_bytes(f)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and base64.b64encode(png).decode() in html
    assert "cell 3, figure 2 (the cell&#x27;s value); 2 traces: h (3 points), z (0 points)" in html
    assert "cell 8, figure 1 (the cell&#x27;s value): t" in html and html.count("<figure ") == 3
    other = Trace("scatter", "x squared", "lines", tuple(STEPS), tuple(HALVES))
    assert png_bytes(line) != png_bytes(Figure(3, "display", "display-1", "growth", "step", "size", (other,)))


# ---- in this process's JVM ----


def test_every_figure_the_notebook_shows_is_read_with_its_data(jvm, data_file):
    from djl_bridge.notebook.executor import execute, result

    run = execute(build_plan(BOOK / "plotting.ipynb"), data_file, None, 0)
    try:
        done = result(run, "engine:pytorch")
        assert done.failure is None, done.failure.one_line()
        assert shown(done.figures) == EXPECTED
        html = str(run.value("html"))  # cell 7: render(...) with the renderer plot-utils registered
        assert "Plotly.newPlot" in html and "x squared" in html
        # the animator's accessor: the displayed figure's scatter traces, interleaved by position
        pairs = zip(STEPS, SQUARES, HALVES)
        assert done.points == [p for x, s, h in pairs for p in (("x squared", x, s), ("x / 2", x, h))]
    finally:
        run.close()


def test_a_supplied_data_file_is_served_and_an_unsupplied_url_is_recorded(jvm, data_file, tmp_path, monkeypatch):
    from djl_bridge.notebook.executor import execute, result

    monkeypatch.chdir(tmp_path)  # the notebook downloads into its current folder, as the book's does
    plan = build_plan(BOOK / "translation-data.ipynb")
    run = execute(plan, data_file, None, 0)
    try:
        assert run.failure is not None and result(run, "engine:pytorch").refused == [PAIRS_URL]
        assert "is not one of the data files it serves" in run.failure.message
    finally:
        run.close()
    run = execute(plan, data_file, None, 0, served={PAIRS_URL: pairs_archive(tmp_path / "pairs.zip")})
    try:
        assert run.failure is None and result(run, "engine:pytorch").refused == []
        assert str(run.value('firstPair("fra-eng.zip")')) == "Good morning.\tBonjour."
    finally:
        run.close()


# ---- the command, end to end, on both engine sides ----


@pytest.mark.parametrize("engine", ["pytorch", "mxnet"])
def test_plotting_notebook_runs_unchanged_and_keeps_every_figure(engine, tmp_path):
    out = run_cli(str(BOOK / "plotting.ipynb"), "--engine", engine, "--no-compare", "--out", "o", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    notes = [ln for ln in out.stderr.splitlines() if ln.startswith("note: Maven resolved")]
    assert len(notes) == 1 and "tech.tablesaw:tablesaw-core:0.38.1" in notes[0] and "pebble:3.1.2" in notes[0]
    nb = json.loads((tmp_path / "o" / "notebook.json").read_text())
    figures = [Figure.from_dict(f) for f in nb["figures"]]
    assert shown(figures) == EXPECTED
    assert [f["file"] for f in nb["figures"]] == ["figure-3-1.png", "figure-5-1.png", "figure-6-1.png"]
    html = figures_html(figures)
    for f in nb["figures"]:
        png = (tmp_path / "o" / f["file"]).read_bytes()
        assert png == png_bytes(Figure.from_dict(f)) and base64.b64encode(png).decode() in html
    assert not (tmp_path / "o" / "perplexity.png").exists()  # no animator trained here


def test_an_artifact_maven_cannot_resolve_is_one_line_exit_3_and_nothing_written(tmp_path):
    cache = tmp_path / "cache"
    out = run_cli(str(BOOK / "bad-maven.ipynb"), "--no-compare", "--out", "o", cwd=tmp_path,
                  env={"XDG_CACHE_HOME": str(cache)})  # fmt: skip
    assert out.returncode == 3, out.stderr[-2000:]
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "Error: %maven com.example:no-such-artifact:1.0 (cell 1): Maven cannot resolve it from Maven Central: "
    ), lines
    assert not (tmp_path / "o").exists() and not (cache / "djl-parity" / "maven").exists()


@pytest.mark.parametrize("engine", ["pytorch", "mxnet"])
def test_an_unserved_data_url_is_one_line_exit_3_naming_data_file(engine, tmp_path):
    out = run_cli(str(BOOK / "translation-data.ipynb"), "--engine", engine, "--no-compare", "--out", "o", cwd=tmp_path)
    assert out.returncode == 3, out.stderr[-2000:]
    errors = [ln for ln in out.stderr.splitlines() if ln.startswith("Error")]
    assert errors == [
        f"Error: cell 3 line 12: the notebook opens {PAIRS_URL}, which djl-parity does not have offline: "
        f"supply a copy with --data-file {PAIRS_URL}=PATH (SHA-1 94646ad1522d915e7b0f9296181140edcf86a4f5)"
    ]
    assert not (tmp_path / "o").exists()


def test_a_data_file_that_is_not_the_d2l_file_is_one_line_exit_2(tmp_path):
    wrong = pairs_archive(tmp_path / "pairs.zip")
    for option, message in [
        (f"{PAIRS_URL}={wrong}", f"--data-file {PAIRS_URL} {wrong} is not the D2L data hub's fra-eng.zip: SHA-1 "),
        (f"https://example.org/pairs.zip={wrong}", "--data-file https://example.org/pairs.zip: not a D2L data file"),
        (PAIRS_URL, f"--data-file {PAIRS_URL}: expected URL=PATH"),
        (f"{PAIRS_URL}={tmp_path / 'none.zip'}", f"--data-file {PAIRS_URL} names {tmp_path / 'none.zip'}, which is"),
    ]:
        out = run_cli(str(BOOK / "translation-data.ipynb"), "--data-file", option, "--out", "o", cwd=tmp_path)
        assert out.returncode == 2, out.stderr[-2000:]
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"Error: {message}"), lines
        assert not (tmp_path / "o").exists()


# ---- the text pipeline's values, compared with the port's ----


def _pipeline(tmp_path: Path, change: tuple[str, str] | None = None) -> Path:
    """text-pipeline.ipynb, with one piece of its code changed (it must be there), beside our helpers."""
    nb = json.loads((BOOK / "text-pipeline.ipynb").read_text())
    if change is not None:
        cells = [c for c in nb["cells"] if change[0] in "".join(c["source"])]
        assert len(cells) == 1, change
        cells[0]["source"] = "".join(cells[0]["source"]).replace(*change).splitlines(keepends=True)
    (tmp_path / "chapter").mkdir()
    target = tmp_path / "chapter" / "pipeline.ipynb"
    target.write_text(json.dumps(nb))
    return target


@pytest.mark.parametrize("engine", ["pytorch", "mxnet"])
def test_the_text_pipelines_values_are_compared_exactly_and_the_rest_is_named(engine, tmp_path):
    """Lines, word and character tokens, both vocabularies and the corpus the notebook builds, each against the
    port's, identical (with the reader its empty lines show: String.strip); its toy list named, not compared."""
    notebook = _pipeline(tmp_path)
    out = run_cli(str(notebook), "--engine", engine, "--utils", str(BOOK.parent / "utils"), "--out", "o", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    status = {s["stage"]: (s["status"], s["count"]) for s in report["stages"]}
    assert status == {
        "cell 2 `textLines`: lines": ("identical", 3221),
        "cell 3 `wordTokens`: tokens": ("identical", 3221),
        "cell 3 `charTokens`: tokens": ("identical", 3221),
        "cell 4 `words`: vocab": ("identical", 4580 + 4579),  # the index list (with <unk>), the counts
        "cell 4 `chars`: vocab": ("identical", 28 + 27),  # no "": this reader leaves empty lines uncounted
        "cell 5 `corpus`: corpus": ("identical", 170580),
    }
    assert all("String.strip" in s["note"] for s in report["stages"])
    assert report["not_compared"][0] == "cell 6 `toy`: a list of 20 integers"


def test_a_changed_line_of_the_text_pipeline_fails_where_it_shows(tmp_path):
    """Upper case kept: the lines differ from the first one, and everything built from them."""
    notebook = _pipeline(tmp_path, (".strip().toLowerCase()", ".strip()"))
    out = run_cli(str(notebook), "--utils", str(BOOK.parent / "utils"), "--out", "o", cwd=tmp_path)
    assert out.returncode == 1, out.stderr[-3000:]
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    first = next(s for s in report["stages"] if s["status"] == "FAILED")
    assert (first["stage"], first["first_bad"], first["cause"]) == ("cell 2 `textLines`: lines", "[0]", None)
    assert all(s["status"] == "FAILED" for s in report["stages"]), report["stages"]
