"""The recorder of a notebook's own training loop (``notebook/recorded.py``, ``org.djlparity.recorder``).

Our own book-format notebooks run in JShell on real DJL: in this process on DJL 0.35.1's PyTorch
engine, and in a worker on DJL 0.23.0 + MXNet 1.9.1. ``lstm-small`` trains with the book's
8-argument ``trainCh8`` (our helpers' loop: a DJL Block, a Trainer, a Dataset); ``scratch-small``
defines its own 7-argument ``trainCh8`` over a ``List<NDList>`` with a hand-made model, called
with sequential and then random sampling. The recorder sees neither loop's source, only DJL.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from djl_bridge.notebook import recorded
from djl_bridge.notebook.patches import apply_patches
from djl_bridge.notebook.plan import build_plan
from parity_tests.test_notebook import BOOK, UTILS

EPOCHS, SEED, FULL = 2, 0, 2
BATCH, NUM_STEPS, MAX_TOKENS = 8, 35, 2000  # both notebooks' data
PER_EPOCH = 7  # batches of 8 x 35 in 2,000 tokens, whatever the offset
SCRATCH_PATCHES = {"pytorch": ["keep-stop-gradient"], "mxnet": []}  # the book's loop runs as written on MXNet
ENGINES = ("pytorch", "mxnet")
_SPEED = re.compile(r"^perplexity: [\d.]+, ([\d.]+) tokens/sec", re.M)
#: Put before scratch-small's first trainCh8 (in its cell): a copy of the model's weights as they were then.
BEFORE = "NDList before = new NDList();\nfor (NDArray p : net.params) {\n    before.add(p.duplicate());\n}\n"


@dataclass
class Ran:
    """A notebook run with the recorder: its loops, what it printed, and its model's weights read after it."""

    loops: list[recorded.RecordedLoop]
    printed: str
    weights: dict[str, list[np.ndarray]]  # "final" (and "before" where the notebook kept a copy)


def _plan(notebook: Path, patches: list[str]):
    plan = build_plan(notebook, UTILS)
    if patches:
        apply_patches(plan, patches)
    return plan


def _arrays(values) -> list[np.ndarray]:
    return [np.array(a.toFloatArray(), np.float32).reshape(tuple(a.getShape().getShape())) for a in values]


def _weights(run) -> dict[str, list[np.ndarray]]:
    """The model's weights in the notebook's shell: ``net`` (a scratch model's NDList; and ``before``, where
    the notebook kept a copy) or ``model`` (a Block's parameters)."""
    from djl_bridge.jvm import java_call

    with java_call():
        names = {str(n) for n in run.shell.variableNames()}
        if "net" in names:
            out = {"final": _arrays(run.value("net").params)}
            return out | ({"before": _arrays(run.value("before"))} if "before" in names else {})
        return {"final": _arrays([p.getValue().getArray() for p in run.value("model").getParameters()])}


def run_here(
    notebook: Path, patches: list[str], data_file: Path, record: bool = True, epochs: int = EPOCHS, heard=None
) -> Ran:
    """The notebook on DJL's PyTorch engine in this process (recording on or off); ``heard`` gets what it prints."""
    from djl_bridge.notebook.executor import execute, result

    if record:
        recorded.record(FULL)
    try:
        run = execute(_plan(notebook, patches), data_file, epochs, SEED, heard)
        try:
            done = result(run, "engine:pytorch")
            assert done.failure is None, done.failure.one_line()
            printed = "".join(s.printed for s in done.snippets)
            return Ran(done.loops, printed, _weights(run))
        finally:
            run.close()
    finally:
        recorded.stop()


def run_worker(notebook: Path, patches: list[str], data_file: Path, record: bool = True, heard=None) -> Ran:
    """The notebook in an MXNet worker as ``djl-parity notebook`` runs it; ``heard`` gets what it prints."""
    from djl_bridge.notebook.session import FULL_STEPS, execute_on_side, prepare

    prepared = prepare(notebook, "mxnet", UTILS, patches)
    output = (lambda e: heard(e["text"]) if e["event"] == "output" else None) if heard else (lambda _e: None)
    done, _env = execute_on_side(prepared, data_file, EPOCHS, SEED, output, None, FULL_STEPS if record else None)
    assert done.failure is None, done.failure.one_line()
    return Ran(done.loops, "".join(s.printed for s in done.snippets), {})


@pytest.fixture(scope="module")
def runs(jvm, data_file, tmp_path_factory):
    """Both notebooks, recorded, on both engines: {(engine, notebook): Ran}; scratch-small keeps a copy of its
    weights before its first training call (a copy draws nothing)."""
    folder = tmp_path_factory.mktemp("chapter")
    call = "trainCh8(net, trainIter, vocab, lr, numEpochs, manager.getDevice(), false);"
    scratch = _variant(folder, "scratch-small.ipynb", (call, BEFORE + call))
    out = {}
    for engine in ENGINES:
        for notebook, patches in ((BOOK / "lstm-small.ipynb", []), (scratch, SCRATCH_PATCHES[engine])):
            go = run_here if engine == "pytorch" else run_worker
            out[engine, notebook.stem] = go(notebook, patches, data_file)
    return out


def scratch_batches(data_file: Path) -> tuple[np.ndarray, np.ndarray]:
    """scratch-small's batches, computed here from the port's corpus: row r reads its own stretch."""
    from djl_bridge.text import load_corpus_time_machine

    corpus, _vocab = load_corpus_time_machine(data_file, MAX_TOKENS)
    per_row = (len(corpus) - 1) // BATCH
    windows = [
        [corpus[r * per_row + s : r * per_row + s + NUM_STEPS + 1] for r in range(BATCH)]
        for s in range(0, per_row - NUM_STEPS + 1, NUM_STEPS)
    ]
    xs = np.array([[w[:-1] for w in batch] for batch in windows], np.int32)
    return xs, np.array([[w[1:] for w in batch] for batch in windows], np.int32)


def _by_position(arrays: list[np.ndarray], loop: recorded.RecordedLoop) -> dict[str, np.ndarray]:
    assert len(arrays) == len(loop.names)
    return dict(zip(loop.names, arrays))


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert list(a) == list(b)
    for name in a:
        assert a[name].dtype == b[name].dtype and np.array_equal(a[name], b[name]), name


@pytest.mark.parametrize("engine", ENGINES)
def test_the_book_loop_is_one_loop_of_its_dataset_epochs_with_the_state_carried(runs, engine, data_file):
    """The loop's batches are the port's dataset's (at the loop's offset), every epoch, the state carried."""
    from djl_bridge.config import RunConfig
    from djl_bridge.sides.port import port_data

    (loop,) = runs[engine, "lstm-small"].loops
    assert (loop.cell, loop.origin, loop.line) == (4, "cell 4", 13)  # the trainCh8(...) snippet
    assert loop.xs.shape == (EPOCHS * PER_EPOCH, BATCH, NUM_STEPS) and loop.xs.dtype == np.int32
    offset = int(np.flatnonzero(np.all(loop.xs[0, 0] == _corpus_windows(data_file), axis=1))[0])
    cfg = RunConfig(model="lstm", batch_size=BATCH, num_steps=NUM_STEPS, max_tokens=MAX_TOKENS, offset=offset)
    data = port_data(cfg.resolved(), data_file, offset)
    for epoch in range(EPOCHS):  # the batches the dataset gives, every epoch
        assert np.array_equal(loop.xs[epoch * PER_EPOCH : (epoch + 1) * PER_EPOCH], data.batches_x)
        assert np.array_equal(loop.ys[epoch * PER_EPOCH : (epoch + 1) * PER_EPOCH], data.batches_y)
    assert loop.epoch_starts == [0, PER_EPOCH] and loop.epochs_from == recorded.DATASET
    assert loop.carried.tolist() == [i % PER_EPOCH != 0 for i in range(EPOCHS * PER_EPOCH)]
    assert loop.names == ["l_0_i2h_WEIGHT", "l_0_h2h_WEIGHT", "l_0_i2h_BIAS", "l_0_h2h_BIAS", "weight", "bias"]
    assert len(loop.full) == FULL and loop.full[0].logits.shape == (BATCH * NUM_STEPS, 29)
    assert np.isfinite(loop.losses).all() and (loop.grad_norms > 0).all()


def _corpus_windows(data_file: Path) -> np.ndarray:
    """The corpus's first NUM_STEPS windows of NUM_STEPS tokens (one per offset)."""
    from djl_bridge.text import load_corpus_time_machine

    corpus, _vocab = load_corpus_time_machine(data_file, MAX_TOKENS)
    return np.array([corpus[o : o + NUM_STEPS] for o in range(NUM_STEPS)], np.int32)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_notebooks_own_loop_over_a_list_is_recorded_with_its_input_period(runs, engine, data_file):
    loops = runs[engine, "scratch-small"].loops
    assert len(loops) == 2  # one loop per training call, in the snippet that called it
    xs, ys = scratch_batches(data_file)
    for loop, random, cell in zip(loops, (False, True), (8, 9)):  # the training call: after BEFORE's 4 lines
        assert (loop.cell, loop.origin, loop.line) == (cell, f"cell {cell}", 9 if not random else 1)
        assert np.array_equal(loop.xs, np.concatenate([xs] * EPOCHS)) and np.array_equal(
            loop.ys, np.concatenate([ys] * EPOCHS)
        )
        assert loop.epoch_starts == [0, PER_EPOCH] and loop.epochs_from == recorded.INPUT_PERIOD
        expected = [False] * (EPOCHS * PER_EPOCH) if random else [i % PER_EPOCH != 0 for i in range(EPOCHS * PER_EPOCH)]
        assert loop.carried.tolist() == expected
        assert loop.names == ["0", "1", "2", "3", "4"]  # the notebook's arrays have no names
        assert loop.shapes == [(29, 8), (8, 8), (8,), (8, 29), (29,)]


def test_initial_and_final_weights_are_the_models(runs):
    """On the PyTorch engine (whose shell is read here): the first loop starts from the scratch model's weights
    as the notebook kept them, the second from where the first ended, and each loop ends at the model's weights
    as read after the run (the last loop) or at the next loop's start."""
    scratch = runs["pytorch", "scratch-small"]
    first, second = scratch.loops
    _assert_same(first.initial, _by_position(scratch.weights["before"], first))
    _assert_same(second.initial, first.final)  # the second call trains on
    _assert_same(second.final, _by_position(scratch.weights["final"], second))
    for loop in scratch.loops:
        _assert_same(loop.full[0].params_before, loop.initial)
    (loop,) = runs["pytorch", "lstm-small"].loops
    _assert_same(loop.final, _by_position(runs["pytorch", "lstm-small"].weights["final"], loop))


@pytest.mark.parametrize("engine", ENGINES)
def test_the_initial_weights_are_the_parameters_read_right_after_training_s_first_forward(jvm, data_file, engine):
    """lstm-observed: lstm-small's training as the loop trainCh8 runs (our helpers' Ch8Epoch) with an
    observer that prints the parameters' bits right after the first step's forward (and backward)."""
    printed = []
    go = run_here if engine == "pytorch" else run_worker
    (loop,) = go(BOOK / "lstm-observed.ipynb", [], data_file, heard=printed.append).loops
    seen = re.findall(r"^first forward: (\[.*\])$", "".join(printed), re.M)
    assert len(seen) == len(loop.names) and len(loop.losses) > 1
    for bits, name in zip(seen, loop.names):
        read = np.array(json.loads(bits), np.int64).astype(np.uint32).view(np.float32)
        assert read.tobytes() == loop.initial[name].tobytes(), name


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ["lstm-small", "scratch-small"])
def test_each_full_step_is_consistent_with_the_update_the_loop_made(runs, engine, name):
    """Steps kept in full: SGD at lr 1 made ``after = before - clipped`` bit for bit (the Trainer's update on
    the block model, seen at DJL's Optimizer; the notebook's own on the scratch model, seen at the next
    backward), nothing was clipped below the threshold 1, and step 2 starts where step 1's update ended."""
    for loop in runs[engine, name].loops:
        for k, step in enumerate(loop.full):
            assert step.clipped_grads is not None and step.params_after is not None
            for p in loop.names:
                assert np.array_equal(step.params_after[p], step.params_before[p] - step.clipped_grads[p]), p
                if step.grad_norm <= 1:
                    assert np.array_equal(step.clipped_grads[p], step.grads[p]), p
            squares = sum(float(np.square(g, dtype=np.float64).sum()) for g in step.grads.values())
            assert step.grad_norm == pytest.approx(np.sqrt(squares), rel=1e-6)
            assert [float(np.square(g).sum()) for g in step.grads.values()] == pytest.approx(
                loop.grad_sq[k].tolist(), rel=1e-5
            )  # each parameter's float32 square sum, as the book's clipping adds them
        _assert_same(loop.full[1].params_before, loop.full[0].params_after)
        assert [s.loss for s in loop.full] == loop.losses[:FULL].tolist()


def test_a_one_line_change_in_the_loop_is_found_at_the_step_where_clipping_first_bites(data_file, tmp_path):
    """The notebook clips at 0.5 instead of 1; replayed on the port (which clips at 1), the runs part at the
    first step whose gradient norm exceeds 0.5: its update differs, so the next step's loss is the first
    value out of tolerance, and the report names that step."""
    from parity_tests.test_notebook import cli

    clip = "clipGradients(net.params, 1, sub);"
    variant = _variant(tmp_path, "scratch-clip.ipynb", (clip, clip.replace("1", "0.5")))
    args = ["--engine", "pytorch", "--utils", str(UTILS), "--epochs", str(EPOCHS), "--patch", "keep-stop-gradient"]
    out = cli(str(variant), *args, "--out", str(tmp_path / "o"))
    assert out.returncode == 1, out.stderr[-3000:]
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    loss = next(s for s in report["stages"] if s["stage"] == "loop 1 (cell 8): steps.loss")
    step1 = [s for s in report["stages"] if s["stage"].startswith("loop 1 (cell 8): step1.")]
    assert step1 and all(s["status"] == "identical" for s in step1)  # below 0.5 at step 1: nothing clipped
    bites = int(re.fullmatch(r"step (\d+)", loss["first_bad"])[1]) - 1  # the step before the first loss apart
    assert 1 < bites < EPOCHS * PER_EPOCH
    assert f"they first part at loop 1 (cell 8): steps.loss, step {bites + 1}" in report["verdict"]


def _variant(folder: Path, name: str, *changes: tuple[str, str]) -> Path:
    """scratch-small with pieces of its code replaced (each must be there)."""
    nb = json.loads((BOOK / "scratch-small.ipynb").read_text())
    for old, new in changes:
        cell = next(c for c in nb["cells"] if old in "".join(c["source"]))
        cell["source"] = "".join(cell["source"]).replace(old, new).splitlines(keepends=True)
    target = folder / name
    target.write_text(json.dumps(nb))
    return target


def test_models_built_before_stay_out_and_two_models_in_one_snippet_are_two_loops(jvm, data_file, tmp_path):
    """A second model, built first and trained in the same snippet after the first: each backward's
    parameters are the arrays whose gradient it changed, so each model's steps are a loop of their own."""
    call = "trainCh8(net, trainIter, vocab, lr, numEpochs, manager.getDevice(), false);"
    spare = "ScratchRnn spare = new ScratchRnn(vocab.length(), 4);\n"
    block = "{ " + call + " " + call.replace("net,", "spare,") + " }"
    variant = _variant(
        tmp_path, "two-models.ipynb", ("int numHiddens = 8;", spare + "int numHiddens = 8;"), (call, block)
    )
    loops = run_here(variant, ["keep-stop-gradient"], data_file, epochs=1).loops
    assert [(loop.cell, loop.line) for loop in loops] == [(8, 6), (8, 6), (9, 1)]  # the block is one snippet
    hidden = [loop.shapes[1] for loop in loops]
    assert hidden == [(8, 8), (4, 4), (8, 8)]  # net, spare, net again
    assert [len(loop.losses) for loop in loops] == [7, 7, 7]
    _assert_same(loops[2].initial, loops[0].final)  # spare's loop left net as it was


def test_a_failing_backward_is_reported_as_before_and_ends_the_recording(jvm, data_file):
    """The book's loop unpatched on DJL's PyTorch engine: step 2's backward raises; the recorder lets the
    exception through unchanged and keeps the one step that ran."""
    from djl_bridge.notebook.executor import execute, result
    from djl_bridge.notebook.session import diagnose_failure

    recorded.record(FULL)
    try:
        run = execute(_plan(BOOK / "scratch-small.ipynb", []), data_file, EPOCHS, SEED)
        try:
            done = diagnose_failure(result(run, "engine:pytorch"), run.plan)
        finally:
            run.close()
    finally:
        recorded.stop()
    assert done.failure is not None and done.failure.known == "djl-discarded-stop-gradient"
    assert "Trying to backward through the graph a second time" in done.failure.message
    (loop,) = done.loops
    assert len(loop.losses) == 1 and loop.full[0].params_after is not None


def _numbers(r: Ran) -> str:
    """Everything the notebook printed (its perplexities and predictions), tokens/s left out."""
    return _SPEED.sub("", r.printed)


def test_the_self_attach_leaves_no_socket_in_tmp(runs):
    """The agent attaches to its own JVM, whose attach listener then listens on /tmp/.java_pid<pid>; only an
    orderly JVM exit removes it, which a worker's JVM never has, so the recorder removes it at once (this
    process's JVM recorded on the PyTorch engine in ``runs``)."""
    attach_dir = Path("/tmp")  # HotSpot's attach-listener folder on Linux, fixed whatever $TMPDIR says
    assert not (attach_dir / f".java_pid{os.getpid()}").exists()


def test_recording_off_leaves_the_notebook_unchanged(runs, jvm, data_file):
    """The same notebook and seed with the hooks installed but the switch off: the same numbers."""
    on = runs["pytorch", "scratch-small"]  # its data has no random offset: the same run, bit for bit
    recorded.record(FULL)  # forgets earlier loops
    recorded.stop()
    off = run_here(BOOK / "scratch-small.ipynb", SCRATCH_PATCHES["pytorch"], data_file, record=False)
    assert _numbers(off) == _numbers(on) and "time traveller" in _numbers(on)
    for a, b in zip(off.weights["final"], on.weights["final"]):
        assert a.tobytes() == b.tobytes()
    assert off.loops == []  # nothing was recorded while off


def test_on_mxnet_a_jvm_without_the_agent_computes_the_same(runs, data_file):
    """The worker without a recorder never installs the agent: the recorded run's numbers are its numbers."""
    plain = run_worker(BOOK / "scratch-small.ipynb", [], data_file, record=False)
    assert _numbers(plain) == _numbers(runs["mxnet", "scratch-small"]) and plain.loops == []


def _training_speed(data_file: Path, record: bool, epochs: int) -> tuple[float, float]:
    """lstm-small's training snippet: tokens per second, and per CPU second of this process (both JVM
    and Python; robust to other processes' load)."""
    from djl_bridge.notebook.executor import execute

    marks = []

    def mark(*_args) -> None:
        marks.append((time.perf_counter(), time.process_time()))

    if record:
        recorded.record(FULL)
    try:
        ended = lambda text: mark() if "perplexity: " in text else None  # noqa: E731  the training call printed
        run = execute(_plan(BOOK / "lstm-small.ipynb", []), data_file, epochs, SEED, ended, on_cell=mark)
        run.close()
    finally:
        recorded.stop()
    (wall0, cpu0), (wall1, cpu1) = marks[-2:]  # the training snippet's start, and its printed end
    tokens = epochs * PER_EPOCH * BATCH * NUM_STEPS
    return tokens / (wall1 - wall0), tokens / (cpu1 - cpu0)


def overhead(data_file: Path, epochs: int, out: Path) -> None:
    """lstm-small's training speed with recording off, then on, after short warm-up runs of both (in the
    process of :func:`test_recording_overhead_on_lstm_small`); written to ``out`` as JSON."""
    for record in (True, False):
        _training_speed(data_file, record, 2)
    off, on = (_training_speed(data_file, record, epochs) for record in (False, True))
    out.write_text(json.dumps({"off": off, "on": on}))


def test_recording_overhead_on_lstm_small(data_file, tmp_path, record_property):
    """Tokens/s of lstm-small's training (30 epochs, 210 steps) with recording off and on, one run each in
    one fresh process whose OpenMP runs one passive thread (as the CLI's runs do; spinning threads on a
    loaded machine make timings meaningless): the ratios are reported; recording may cost, not 4x."""
    out = tmp_path / "overhead.json"
    code = (
        "from pathlib import Path; from parity_tests.test_recorder import overhead; "
        f"overhead(Path({str(data_file)!r}), 30, Path({str(out)!r}))"
    )
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    speeds = json.loads(out.read_text())
    (off_wall, off_cpu), (on_wall, on_cpu) = speeds["off"], speeds["on"]
    wall, cpu = on_wall / off_wall, on_cpu / off_cpu
    record_property("recording_speed_ratio", wall)
    record_property("recording_cpu_speed_ratio", cpu)
    print(
        f"lstm-small tokens/s: recording off {off_wall:.0f}, on {on_wall:.0f} (ratio {wall:.2f}); "
        f"per CPU second: off {off_cpu:.0f}, on {on_cpu:.0f} (ratio {cpu:.2f})"
    )
    assert cpu > 0.25, f"recording slows lstm-small's training to {cpu:.2f} of its speed"


def test_epochs_from_the_input_period():
    """Without a Dataset the epoch length is the smallest period of the batches that divides the steps."""
    xs = np.arange(3 * 2 * 4, dtype=np.int32).reshape(3, 2, 4)
    ys = xs + 1
    none, period = np.zeros(9, bool), recorded.INPUT_PERIOD
    assert recorded.epoch_starts(none, np.concatenate([xs] * 3), np.concatenate([ys] * 3)) == ([0, 3, 6], period)
