"""`djl-parity notebook --engine mxnet`: our own book-format notebooks run in JShell inside the
MXNet worker (DJL 0.23 + MXNet 1.9, real JVM and engine), compared across engines with the port."""

from __future__ import annotations

import json
import re

from parity_tests.test_notebook import BOOK, cli


def _report(folder) -> dict:
    return json.loads((folder / "report.json").read_text())


def _variant(tmp_path, name: str, nb: dict, epochs: str) -> list[str]:
    """Our notebook, changed, written beside no helpers: the arguments that run it on MXNet with ours."""
    (tmp_path / "chapter").mkdir()
    target = tmp_path / "chapter" / name
    target.write_text(json.dumps(nb))
    return [str(target), "--engine", "mxnet", "--utils", str(BOOK.parent / "utils"), "--epochs", epochs]


def test_the_bilstm_runs_as_published_on_mxnet_and_its_initial_weights_are_proven(tmp_path):
    """On its own engine the notebook's bi-LSTM trains as published (no patch; on PyTorch it fails)."""
    out = cli(str(BOOK / "bilstm-small.ipynb"), "--engine", "mxnet", "--epochs", "2", "--out", str(tmp_path / "o"))
    assert out.returncode == 0, out.stderr[-3000:]
    # the cells' output, streamed from the worker as the notebook prints it
    assert re.search(r"^perplexity: \d+\.\d, [\d.]+ tokens/sec on cpu\(\)$", out.stdout, re.M)
    assert "runs as DJL 0.23.0's mxnet engine" in out.stderr and "seeded with --seed again" in out.stderr
    report = _report(tmp_path / "o")
    status = {s["stage"]: s["status"] for s in report["stages"]}
    assert status["init.replay"] == "identical"  # our helpers from the redrawn weights end where the notebook ends
    assert status["final.params"] in ("identical", "within tolerance")
    assert all(status[s] == "identical" for s in ("vocab", "corpus", "batches.x", "batches.y"))
    assert report["outcome"] == "PASS" and report["config"]["model"] == "bilstm"
    assert report["config"]["engine"] == "mxnet"
    assert report["config"]["initial weights"].startswith("reconstructed: the engine seeded again")
    assert report["environment"]["torch imported in the worker"] == "False"
    assert report["environment"]["DJL engine"].startswith("mxnet 1.9")
    final = next(s for s in report["stages"] if s["stage"] == "final.params")
    assert final["tolerance"].startswith("envelope"), final  # judged by the calibrated envelope, not exactly


def test_the_replay_proof_fails_when_the_notebook_draws_before_training(tmp_path):
    """A random draw between the reseed and trainCh8's first forward moves the weights: init.replay says so."""
    nb = json.loads((BOOK / "lstm-small.ipynb").read_text())
    cell = nb["cells"][-1]
    cell["source"] = [ln.replace("false, manager);", "false, drawn(manager));") for ln in cell["source"]]
    assert any("drawn(manager)" in ln for ln in cell["source"])
    # drawn() takes one random number from the engine's generator on its way into trainCh8
    nb["cells"].insert(
        -1,
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": [
                "NDManager drawn(NDManager m) {\n",
                "    m.randomNormal(new ai.djl.ndarray.types.Shape(1));\n",
                "    return m;\n",
                "}\n",
            ],
        },
    )
    out = cli(*_variant(tmp_path, "drawing.ipynb", nb, "1"), "--out", str(tmp_path / "o"))
    assert out.returncode == 1, out.stderr[-3000:]
    report = _report(tmp_path / "o")
    replay = next(s for s in report["stages"] if s["stage"] == "init.replay")
    assert replay["status"] == "FAILED" and "initial weights unproven" in replay["note"]


def test_a_failing_cell_on_mxnet_is_located_and_a_syntax_error_is_exit_2(tmp_path):
    (tmp_path / "Helper.java").write_text(
        "class Helper {\n    static int pick(int[] xs, int i) {\n        return xs[i];\n    }\n}\n"
    )
    f = tmp_path / "cells.jsh"
    f.write_text('%load Helper.java\n// %%\nint[] xs = {1, 2};\nSystem.out.println("before");\nHelper.pick(xs, 7);\n')
    out = cli(str(f), "--engine", "mxnet", "--no-compare", "--out", str(tmp_path / "o"))
    assert out.returncode == 1, out.stderr[-3000:]
    assert out.stdout.splitlines() == ["before"]
    error = next(ln for ln in out.stderr.splitlines() if ln.startswith("error: "))
    assert error.startswith("error: cell 2 line 3 raised: java.lang.ArrayIndexOutOfBoundsException")
    assert "[at Helper.pick (Helper.java line 3)]" in error
    failure = json.loads((tmp_path / "o" / "notebook.json").read_text())["failure"]
    assert failure["exception"] == "java.lang.ArrayIndexOutOfBoundsException" and failure["line"] == 3

    out = cli(str(BOOK / "bad-syntax.ipynb"), "--engine", "mxnet", "--no-compare", "--out", str(tmp_path / "s"))
    assert out.returncode == 2, out.stderr[-3000:]
    assert out.stderr.strip().splitlines()[-1].startswith("Error: cell 2 line 2 does not compile")
    assert not (tmp_path / "s").exists()


def test_an_rnn_without_activation_trains_as_relu_on_mxnet_and_is_named(tmp_path):
    """RNN.builder() without setActivation raises nothing on MXNet: the model's null activation is read and named."""
    nb = json.loads((BOOK / "lstm-small.ipynb").read_text())
    cell = nb["cells"][-1]
    text = "".join(cell["source"])
    start, end = text.index("LSTM lstmLayer ="), text.index("RNNModel model")
    text = (
        text[:start]
        + (
            "RNN rnnLayer =\n        RNN.builder()\n                .setNumLayers(1)\n"
            "                .setStateSize(numHiddens)\n                .optReturnState(true)\n"
            "                .optBatchFirst(false)\n                .build();\n"
            "RNNModel model = new RNNModel(rnnLayer, vocab.length());\n"
        )
        + text[text.index("\n", end) + 1 :]
    )
    cell["source"] = text.splitlines(keepends=True)
    args = _variant(tmp_path, "rnn-small.ipynb", nb, "2")
    out = cli(*args, "--out", str(tmp_path / "a"))
    assert out.returncode == 4, out.stderr[-3000:]
    report = _report(tmp_path / "a")
    status = {s["stage"]: (s["status"], s["cause"]) for s in report["stages"]}
    assert status["model.behaviour"] == ("explained", "mxnet-rnn-activation-relu")
    assert status["final.params"] == ("not compared", "mxnet-rnn-activation-relu")
    assert status["vocab"] == ("identical", None)
    assert "--patch rnn-activation" in report["verdict"]
    note = next(s["note"] for s in report["stages"] if s["stage"] == "model.behaviour")
    assert "whose activation is null" in note and "RNN.builder()" in note

    out = cli(*args, "--patch", "rnn-activation", "--out", str(tmp_path / "b"))
    assert out.returncode == 0, out.stderr[-3000:]
    report = _report(tmp_path / "b")
    status = {s["stage"]: s["status"] for s in report["stages"]}
    assert "model.behaviour" not in status and status["init.replay"] == "identical"
    assert status["final.params"] in ("identical", "within tolerance") and report["config"]["model"] == "rnn"
