"""`djl-parity notebook`: d2l-java-style notebooks run unchanged in JShell inside the bridge's JVM.

The notebooks under parity_tests/notebooks are our own, in the book's format (JSON .ipynb, Java
cells that %load sibling helper files and pin artifacts with %maven), calling the book's helper
API, which our Java helpers provide.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from djl_bridge.notebook.cells import NotebookError, read_cells
from djl_bridge.notebook.failures import diagnose
from djl_bridge.notebook.maven import choose_engine, parse_maven, substitutions
from djl_bridge.notebook.patches import apply_patches
from djl_bridge.notebook.plan import Plan, Unit, build_plan
from djl_bridge.parity.stages import STEP1_FIELDS

HERE = Path(__file__).resolve().parent
BOOK = HERE / "notebooks" / "chapter"
UTILS = HERE / "notebooks" / "utils"
SEEDS = HERE.parents[1] / "shared" / "seeds"
VOCAB = "cell 3 `vocab`: vocab"  # the notebook's Vocab variable, against the port's (the book helper's reader)
STEP1 = [f for f in STEP1_FIELDS if f != "state"]  # a loop's recurrent state passes through the notebook's code
CLI = [sys.executable, "-m", "djl_bridge.cli", "notebook"]


def cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


# ---- the plan: cells, magics, patches (no JVM but Maven's cache) ----


def test_plan_resolves_loads_beside_the_notebook_and_loads_plotting_from_maven():
    plan = build_plan(BOOK / "lstm-small.ipynb")
    origins = [u.origin for u in plan.units]
    assert plan.cells == 4  # markdown cells are not counted
    assert "../utils/timemachine/TimeMachine.java" in origins and "../utils/Animator.java" in origins
    assert "../utils/plot-utils.ipynb cell 2" in origins  # its %%loadFromPOM cell 1 is a dependency, not code
    assert [str(d) for d in plan.dependencies] == ["tech.tablesaw:tablesaw-jsplot:0.38.1"]
    assert any(j.endswith("tablesaw-jsplot-0.38.1.jar") for j in plan.classpath.jars)
    assert [str(m) for m in plan.maven] == [
        "ai.djl:api:0.35.1",
        "ai.djl.pytorch:pytorch-engine:0.35.1",
        "org.slf4j:slf4j-simple:2.0.17",
    ]
    last = plan.units[-1]
    assert (last.cell, last.origin, last.first_line) == (4, "cell 4", 1)


def test_bad_magic_names_the_cell():
    with pytest.raises(NotebookError, match=re.escape("cell 1 line 2: %load ../utils/NoSuchHelper.java: no such file")):
        build_plan(BOOK / "bad-load.ipynb")


def test_cell_files_split_on_percent_markers_and_unknown_magics_are_errors(tmp_path):
    f = tmp_path / "cells.jsh"
    f.write_text("int a = 1;\n// %% second\nint b = a + 1;\n// %%\n%classpath /x\n")
    assert [c.text.strip() for c in read_cells(f)][:2] == ["int a = 1;", "int b = a + 1;"]
    with pytest.raises(NotebookError, match=r"cell 3 line 1: magic %classpath is not supported"):
        build_plan(f)
    nb = tmp_path / "pom.ipynb"
    nb.write_text(json.dumps({"cells": [{"cell_type": "code", "source": ["%%html\n", "<b>bold</b>"]}]}))
    with pytest.raises(NotebookError, match=r"cell 1: cell magic %%html is not supported"):
        build_plan(nb)


def test_utils_folder_resolves_the_books_relative_loads(tmp_path):
    f = tmp_path / "nb.jsh"
    f.write_text("%load ../utils/timemachine/Vocab.java\n%load ../utils/djl-imports\n")
    with pytest.raises(NotebookError, match="give --utils DIR"):
        build_plan(f)
    plan = build_plan(f, UTILS)
    assert plan.units[0].text == "import org.djlparity.d2l.Vocab;"
    assert len(plan.maven) == 3


def test_engine_choice_and_stated_substitutions():
    pinned = [
        parse_maven(1, "cell 1", 1, c)
        for c in ("ai.djl:basicdataset:0.23.0", "ai.djl.mxnet:mxnet-engine:0.23.0", "org.slf4j:slf4j-simple:1.7.36")
    ]
    assert choose_engine("auto", pinned) == "mxnet"
    assert choose_engine("auto", pinned[:1]) == "pytorch"
    assert choose_engine("pytorch", pinned) == "pytorch"
    said = substitutions("pytorch", pinned)
    assert said == [
        "%maven ai.djl:basicdataset:0.23.0 (cell 1) runs as version 0.35.1",
        "%maven ai.djl.mxnet:mxnet-engine:0.23.0 (cell 1) runs as DJL 0.35.1's pytorch engine",
        "%maven org.slf4j:slf4j-simple:1.7.36 (cell 1) runs as version 2.0.17",
    ]
    assert substitutions("mxnet", pinned) == []


LOOP = """        } else {
            for (NDArray s : state) {
                s.stopGradient();
            }
        }"""


def test_patches_keep_line_counts_show_diffs_and_refuse_when_nothing_matches():
    plan = Plan(Path("nb.ipynb"), 1, [Unit(1, "../utils/Loop.java", LOOP)])
    diffs = apply_patches(plan, ["keep-stop-gradient"])
    assert "-                s.stopGradient();" in diffs[0]
    assert "+                state.set(i, state.get(i).stopGradient());" in diffs[0]
    assert plan.units[0].text.count("\n") == LOOP.count("\n")
    with pytest.raises(NotebookError, match="--patch bilstm-layout: nothing in this notebook to patch"):
        apply_patches(plan, ["bilstm-layout"])
    with pytest.raises(NotebookError, match="unknown patch"):
        apply_patches(plan, ["make-it-work"])


def test_known_failures_need_the_registered_signature_and_the_cause_line():
    plan = Plan(Path("nb.ipynb"), 1, [Unit(1, "../utils/Loop.java", LOOP, first_line=250)])
    msg = "Trying to backward through the graph a second time (or directly access saved tensors ...)"
    trace = (
        "ai.djl.engine.EngineException: " + msg + "\n\tat ai.djl.pytorch.jni.PyTorchLibrary.torchBackward"
        "(Native Method)\n\tat TimeMachine.trainEpochCh8(#14:112)\n"
    )
    found = diagnose(plan, "ai.djl.engine.EngineException", msg, trace)
    assert found is not None and found.name == "djl-discarded-stop-gradient"
    assert found.line == 252 and "--patch keep-stop-gradient" in found.describe()
    assert diagnose(plan, "java.lang.IllegalStateException", msg, trace) is None  # another exception
    assert diagnose(plan, "ai.djl.engine.EngineException", msg, trace.replace("torchBackward", "torchAdd")) is None
    apply_patches(plan, ["keep-stop-gradient"])
    assert diagnose(plan, "ai.djl.engine.EngineException", msg, trace) is None  # no discarded result left


# ---- in this process's JVM ----


def test_cells_run_in_the_bridges_jvm_on_the_calling_thread(jvm, data_file, tmp_path):
    from djl_bridge.notebook.executor import execute, result

    f = tmp_path / "cells.jsh"
    f.write_text(
        "String where = Thread.currentThread().getName();\n"
        'System.out.println("on " + where);\n'
        "// %%\n"
        "var text = new String(new java.net.URL("
        '"http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt").openStream().readAllBytes());\n'
        'int maxEpoch = Integer.getInteger("MAX_EPOCH", 500);\n'
        'display("a figure");\n'
    )
    run = execute(build_plan(f), data_file, 3, 0)
    try:
        assert run.failure is None
        assert str(run.value("where")) == "main"  # JPype's thread, not a JShell execution thread
        assert str(run.value("text")) == data_file.read_text(encoding="utf-8")  # served offline, inside the JVM
        assert int(run.value("maxEpoch")) == 3
        done = result(run, "pytorch")
        assert done.displays == ["String: a figure"] and done.loops == []
        assert [(s.cell, s.line, s.printed) for s in done.snippets][:2] == [(1, 1, ""), (1, 2, "on main\n")]
    finally:
        run.close()


def test_a_failure_in_loaded_code_is_located_in_its_file(jvm, data_file, tmp_path):
    from djl_bridge.notebook.executor import execute

    (tmp_path / "Helper.java").write_text(
        "class Helper {\n    static int pick(int[] xs, int i) {\n        return xs[i];\n    }\n}\n"
    )
    f = tmp_path / "cells.jsh"
    f.write_text("%load Helper.java\n// %%\nint[] xs = {1, 2};\n\nHelper.pick(xs, 7);\n")
    run = execute(build_plan(f), data_file, None, 0)
    try:
        failure = run.failure
        assert failure is not None and (failure.cell, failure.line) == (2, 3)
        assert failure.exception == "java.lang.ArrayIndexOutOfBoundsException"
        assert failure.frames[0] == "Helper.pick (Helper.java line 3)"
        assert failure.one_line().startswith("cell 2 line 3 raised: java.lang.ArrayIndexOutOfBoundsException")
    finally:
        run.close()


# ---- the command, end to end ----


def test_notebook_runs_and_matches_the_port_bit_for_bit(tmp_path):
    """The notebook's own loop, recorded in DJL and replayed on the port, equal at every stage of the table."""
    out = cli(str(BOOK / "lstm-small.ipynb"), "--epochs", "10", "--out", str(tmp_path / "o"))
    assert out.returncode == 0, out.stderr[-2000:]
    assert re.search(r"^perplexity: \d+\.\d, [\d.]+ tokens/sec on cpu\(\)$", out.stdout, re.M)
    assert "note: Maven resolved tech.tablesaw:tablesaw-jsplot:0.38.1: tech.tablesaw:tablesaw-jsplot" in out.stderr
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    status = {s["stage"]: s["status"] for s in report["stages"]}
    table = ["batches.x", "batches.y", "init.transfer", *(f"step1.{f}" for f in STEP1), "steps.loss"]
    table += ["steps.grad_norm", "steps.grad_sq", "final.params", "printed.perplexity", "predictions"]
    assert status == {**{s: "identical" for s in table}, "epochs.perplexity": "identical", VOCAB: "identical"}
    assert report["outcome"] == "PASS" and report["config"]["loop 1"]["model"] == "lstm"
    assert report["config"]["loop 1"]["epochs"] == 10 and report["config"]["loop 1"]["batch_size"] == 8
    nb = json.loads((tmp_path / "o" / "notebook.json").read_text())
    assert [p["epoch"] for p in nb["animator"]] == [10.0] and (tmp_path / "o" / "perplexity.png").is_file()
    assert [(f["file"], f["shown"]) for f in nb["figures"]] == [("figure-4-1.png", "display")]  # the animator's
    assert [(loop["cell"], loop["steps"], len(loop["epoch_starts"])) for loop in nb["loops"]] == [(4, 70, 10)]


def test_published_bilstm_failure_is_named_and_the_patch_makes_it_run(tmp_path):
    out = cli(str(BOOK / "bilstm-small.ipynb"), "--epochs", "1", "--out", str(tmp_path / "a"))
    assert out.returncode == 4, out.stderr[-2000:]
    line = next(ln for ln in out.stderr.splitlines() if ln.startswith("error: "))
    assert line.startswith("error: cell 3 line 24 raised: ai.djl.engine.EngineException: The size of tensor a")
    assert "known failure djl-bilstm-parameter-layout: caused at cell 3 line 19 (`.optBidirectional(true)`)" in line
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert report["outcome"] == "INCOMPLETE" and "--patch bilstm-layout" in report["verdict"]
    assert report["stages"][0] == {
        **report["stages"][0],
        "stage": "notebook.run",
        "status": "explained",
        "cause": "djl-bilstm-parameter-layout",
    }

    out = cli(
        str(BOOK / "bilstm-small.ipynb"), "--epochs", "1", "--patch", "bilstm-layout", "--out", str(tmp_path / "b")
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "+        org.djlparity.fix.LayoutFixedLstm.builder()" in out.stderr
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["config"]["loop 1"]["model"] == "bilstm" and report["outcome"] == "PASS"
    assert {s["stage"]: s["status"] for s in report["stages"]}["final.params"] == "identical"
    assert any("--patch bilstm-layout" in d for d in report["deviations"])


@pytest.mark.parametrize(
    "name,message",
    [
        ("bad-load.ipynb", "cell 1 line 2: %load ../utils/NoSuchHelper.java: no such file"),
        ("bad-syntax.ipynb", "cell 2 line 2 does not compile: illegal start of expression"),
    ],
)
def test_bad_notebook_is_one_line_exit_2_and_writes_nothing(name, message, tmp_path):
    out = cli(str(BOOK / name), "--no-compare", "--out", str(tmp_path / "o"))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {message}")
    assert not (tmp_path / "o").exists()


def test_the_books_cells_from_the_seed_run_on_our_helpers(tmp_path):
    seeds = sorted(SEEDS.glob("002_*.txt")) if SEEDS.is_dir() else []
    if not seeds:
        pytest.skip(f"no notebook text under {SEEDS}")
    text = seeds[0].read_text(encoding="utf-8")
    cells = re.findall(r"In \[ \]:\s*```\n(.*?)```", text, re.S)
    assert cells and "%load ../utils/timemachine/TimeMachine.java" in cells[0]
    chapter = tmp_path / "chapter"
    chapter.mkdir()
    (chapter / "bi-rnn.jsh").write_text("\n// %%\n".join(cells))
    out = cli(
        str(chapter / "bi-rnn.jsh"),
        "--utils",
        str(UTILS),
        "--epochs",
        "1",
        "--no-compare",
        "--out",
        str(tmp_path / "o"),
    )
    assert out.returncode == 1
    assert "known failure djl-bilstm-parameter-layout" in out.stderr
    assert re.search(r"error: cell 3 line \d+ raised: ai\.djl\.engine\.EngineException", out.stderr)


STATE_LOOP = """import ai.djl.engine.Engine;
import ai.djl.ndarray.*;
import ai.djl.ndarray.types.*;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.training.*;
NDManager manager = NDManager.newBaseManager();
LSTM layer = LSTM.builder().setNumLayers(1).setStateSize(4).optReturnState(true).build();
layer.initialize(manager, DataType.FLOAT32, new Shape(3, 2, 5));
// %%
NDList state = null;
for (int batch = 0; batch < 2; batch++) {
    if (state != null) {
        for (NDArray s : state) {
            s.stopGradient();
        }
    }
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDList in = new NDList(manager.ones(new Shape(3, 2, 5)));
        if (state != null) {
            in.addAll(state);
        }
        NDList out = layer.forward(new ParameterStore(manager, false), in, true);
        state = out.subNDList(1);
        gc.backward(out.head().sum());
    }
}
"""


def test_discarded_stop_gradient_fails_on_the_pytorch_engine_and_the_patch_fixes_it(jvm, data_file, tmp_path):
    """The published loop's pattern on real DJL: the carried state stays attached, batch 2's backward fails."""
    from djl_bridge.notebook.executor import execute, result
    from djl_bridge.notebook.session import diagnose_failure

    f = tmp_path / "loop.jsh"
    f.write_text(STATE_LOOP)
    run = execute(build_plan(f), data_file, None, 0)
    try:
        failure = diagnose_failure(result(run, "pytorch"), run.plan).failure
        assert failure is not None and failure.exception == "ai.djl.engine.EngineException"
        assert "Trying to backward through the graph a second time" in failure.message
        assert (failure.cell, failure.line) == (2, 2)  # the for loop: the snippet that raised
        assert failure.known == "djl-discarded-stop-gradient" and failure.patch == "keep-stop-gradient"
        assert "caused at cell 2 line 5 (`s.stopGradient();`)" in failure.explanation
    finally:
        run.close()
    plan = build_plan(f)
    apply_patches(plan, ["keep-stop-gradient"])
    run = execute(plan, data_file, None, 0)
    try:
        assert run.failure is None
    finally:
        run.close()


RNN_CELLS = """import ai.djl.ndarray.*;
import ai.djl.ndarray.types.*;
import ai.djl.nn.recurrent.RNN;
import ai.djl.training.ParameterStore;
NDManager manager = NDManager.newBaseManager();
RNN rnnLayer = RNN.builder().setNumLayers(1)
        .setStateSize(4).optReturnState(true).optBatchFirst(false).build();
// %%
NDList input = new NDList(manager.ones(new Shape(3, 2, 5)), manager.zeros(new Shape(1, 2, 4)));
rnnLayer.initialize(manager, DataType.FLOAT32, input.getShapes());
NDList out = rnnLayer.forward(new ParameterStore(manager, false), input, false);
"""


def test_rnn_without_activation_fails_on_the_pytorch_engine_and_the_patch_fixes_it(jvm, data_file, tmp_path):
    """The RNN notebook's layer as published: no activation; the engine fails at the first forward."""
    from djl_bridge.notebook.executor import execute, result
    from djl_bridge.notebook.session import diagnose_failure

    f = tmp_path / "rnn.jsh"
    f.write_text(RNN_CELLS)
    run = execute(build_plan(f), data_file, None, 0)
    try:
        failure = diagnose_failure(result(run, "pytorch"), run.plan).failure
        assert failure is not None and (failure.cell, failure.line) == (2, 3)
        assert failure.exception == "java.lang.NullPointerException"
        assert failure.known == "djl-rnn-activation-unset" and failure.patch == "rnn-activation"
        assert "caused at cell 1 line 6" in failure.explanation
    finally:
        run.close()
    plan = build_plan(f)
    diff = apply_patches(plan, ["rnn-activation"])[0]
    assert "+RNN rnnLayer = RNN.builder().setActivation(RNN.Activation.TANH).setNumLayers(1)" in diff
    run = execute(plan, data_file, None, 0)
    try:
        assert run.failure is None
        assert tuple(run.value("out.get(0).getShape().getShape()")) == (3, 2, 4)
    finally:
        run.close()


def test_a_7_argument_loop_over_a_list_is_recorded_and_bit_identical_on_pytorch(tmp_path):
    """scratch-small's own loops (sequential, then a fresh state per batch) on DJL's PyTorch engine, with the
    documented stop-gradient patch: every loop stage identical to the port's replay."""
    args = ["--engine", "pytorch", "--epochs", "2", "--patch", "keep-stop-gradient", "--out", str(tmp_path / "o")]
    out = cli(str(BOOK / "scratch-small.ipynb"), *args)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    status = {s["stage"]: s["status"] for s in report["stages"]}
    assert len(status) == 31 and set(status.values()) == {"identical"}, status  # 2 loops x 15, and the vocab
    assert report["config"]["loop 2"]["model"] == "rnn-scratch" and report["config"]["loop 2"]["epochs"] == 2


@pytest.mark.parametrize(
    "cell,line,how",
    [
        ("int code = 3;\nSystem.exit(code);\n", 2, "exited with status 3"),
        (
            'new ProcessBuilder("kill", "-SEGV", "" + ProcessHandle.current().pid()).start().waitFor();\n'
            "Thread.sleep(60000);\n",
            1,
            "was killed by SIG",
        ),
    ],  # fmt: skip
    ids=["System.exit", "crash"],
)
def test_a_cell_that_ends_the_jvm_is_a_fail_naming_the_cell_with_the_report_written(cell, line, how, tmp_path):
    f = tmp_path / "ends.jsh"
    f.write_text(f'System.out.println("before");\n// %%\n{cell}')
    out = cli(str(f), "--out", str(tmp_path / "o"))
    assert out.returncode == 1, out.stderr[-3000:]
    assert out.stdout.startswith("before\n")
    error = next(ln for ln in out.stderr.splitlines() if ln.startswith("error: "))
    assert error.startswith(f"error: cell 2 line {line} ended the JVM: the worker's JVM {how}"), error
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["outcome"] == "FAIL" and report["stages"][0]["stage"] == "notebook.run"
    run = report["stages"][0]
    assert run["status"] == "FAILED" and f"cell 2 line {line} ended the JVM" in run["note"]
    assert not list(tmp_path.glob("**/hs_err*"))  # the crash report stays in the worker's own folder
