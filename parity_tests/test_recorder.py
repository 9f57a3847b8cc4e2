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
SCRATCH_PATCHES = {"pytorch": ["keep-stop-gradient"], "mxnet": []}  # the book's loop runs as written on MXNet
ENGINES = ("pytorch", "mxnet")
_SPEED = re.compile(r"^perplexity: [\d.]+, ([\d.]+) tokens/sec", re.M)


@dataclass
class Ran:
    """A notebook run with the recorder: its loops, training calls, observed data and output."""

    loops: list[recorded.RecordedLoop]
    calls: list
    data: object | None
    printed: str
    replays: dict


def _plan(notebook: Path, patches: list[str]):
    plan = build_plan(notebook, UTILS)
    if patches:
        apply_patches(plan, patches)
    return plan


def run_here(
    notebook: Path, patches: list[str], data_file: Path, record: bool = True, epochs: int = EPOCHS, heard=None
) -> Ran:
    """The notebook on DJL's PyTorch engine in this process (recording on or off); ``heard`` gets what it prints."""
    from djl_bridge.notebook.executor import execute, observe

    if record:
        recorded.record(FULL)
    try:
        run = execute(_plan(notebook, patches), data_file, epochs, SEED, None, heard)
        try:
            assert run.failure is None, run.failure.one_line()
            observe(run)
            return Ran(recorded.read_loops(), run.training, run.data, "".join(c.printed for c in run.training), {})
        finally:
            run.close()
    finally:
        recorded.stop()


def run_worker(notebook: Path, patches: list[str], data_file: Path, record: bool = True, heard=None) -> Ran:
    """The notebook in an MXNet worker, reseeded and replayed by our helpers as ``djl-parity notebook`` does;
    ``heard`` gets what it prints."""
    from djl_bridge.notebook.executor import from_message
    from djl_bridge.sides import worker

    request = dict(notebook=str(notebook), utils=str(UTILS), patches=patches, data=str(data_file), epochs=EPOCHS)
    request |= dict(seed=SEED, compare=True) | (dict(record=FULL) if record else {})
    output = (lambda e: heard(e["text"]) if e["event"] == "output" else None) if heard else None
    body, replays, _stats = worker.notebook("mxnet", request, output)
    run = from_message(body["run"], _plan(notebook, patches))
    assert run.failure is None, run.failure.one_line()
    loops = recorded.from_message(body["recorded"]) if record else []
    return Ran(loops, run.training, run.data, "".join(c.printed for c in run.training), replays)


@pytest.fixture(scope="module")
def runs(jvm, data_file):
    """Both notebooks, recorded, on both engines: {(engine, notebook): Ran}."""
    out = {}
    for engine in ENGINES:
        for name, patches in (("lstm-small", []), ("scratch-small", SCRATCH_PATCHES[engine])):
            go = run_here if engine == "pytorch" else run_worker
            out[engine, name] = go(BOOK / f"{name}.ipynb", patches, data_file)
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


def _by_position(params, loop: recorded.RecordedLoop) -> dict[str, np.ndarray]:
    assert len(params) == len(loop.names)
    return {name: value for (_java, value), name in zip(params, loop.names)}


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert list(a) == list(b)
    for name in a:
        assert a[name].dtype == b[name].dtype and np.array_equal(a[name], b[name]), name


@pytest.mark.parametrize("engine", ENGINES)
def test_the_book_loop_is_one_loop_of_its_dataset_epochs_with_the_state_carried(runs, engine):
    r = runs[engine, "lstm-small"]
    (call,) = r.calls
    (loop,) = r.loops
    per_epoch = len(r.data.batches_x)
    assert (loop.cell, loop.origin, loop.line) == (call.cell, "cell 4", 13)  # the trainCh8(...) snippet
    assert loop.xs.shape == (EPOCHS * per_epoch, BATCH, NUM_STEPS) and loop.xs.dtype == np.int32
    for epoch in range(EPOCHS):  # the batches the dataset gives, every epoch
        assert np.array_equal(loop.xs[epoch * per_epoch : (epoch + 1) * per_epoch], r.data.batches_x)
        assert np.array_equal(loop.ys[epoch * per_epoch : (epoch + 1) * per_epoch], r.data.batches_y)
    assert loop.epoch_starts == [0, per_epoch] and loop.epochs_from == recorded.DATASET
    assert loop.carried.tolist() == [i % per_epoch != 0 for i in range(EPOCHS * per_epoch)]
    assert loop.names == ["l_0_i2h_WEIGHT", "l_0_h2h_WEIGHT", "l_0_i2h_BIAS", "l_0_h2h_BIAS", "weight", "bias"]
    assert len(loop.full) == FULL and loop.full[0].logits.shape == (BATCH * NUM_STEPS, 29)
    assert np.isfinite(loop.losses).all() and (loop.grad_norms > 0).all()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_notebooks_own_loop_over_a_list_is_recorded_with_its_input_period(runs, engine, data_file):
    r = runs[engine, "scratch-small"]
    assert len(r.calls) == 2 and len(r.loops) == 2  # one loop per training call, in the snippet that called it
    xs, ys = scratch_batches(data_file)
    per_epoch = len(xs)
    for call, loop, random in zip(r.calls, r.loops, (False, True)):
        assert (loop.cell, loop.origin, loop.line) == (call.cell, f"cell {call.cell}", 5 if not random else 1)
        assert call.args[-1] == str(random).lower()
        assert np.array_equal(loop.xs, np.concatenate([xs] * EPOCHS)) and np.array_equal(
            loop.ys, np.concatenate([ys] * EPOCHS)
        )
        assert loop.epoch_starts == [0, per_epoch] and loop.epochs_from == recorded.INPUT_PERIOD
        expected = [False] * (EPOCHS * per_epoch) if random else [i % per_epoch != 0 for i in range(EPOCHS * per_epoch)]
        assert loop.carried.tolist() == expected
        assert loop.names == ["0", "1", "2", "3", "4"]  # the notebook's arrays have no names
        assert loop.shapes == [(29, 8), (8, 8), (8,), (8, 29), (29,)]


@pytest.mark.parametrize("engine", ENGINES)
def test_initial_and_final_weights_are_the_models(runs, engine):
    scratch = runs[engine, "scratch-small"]
    for call, loop in zip(scratch.calls, scratch.loops):  # a scratch model has its weights before training
        _assert_same(loop.initial, _by_position(call.initial_params, loop))
        _assert_same(loop.final, _by_position(call.final_params, loop))
        _assert_same(loop.full[0].params_before, loop.initial)
    _assert_same(scratch.loops[1].initial, scratch.loops[0].final)  # the second call trains on
    lstm = runs[engine, "lstm-small"]
    (call,) = lstm.calls
    (loop,) = lstm.loops
    _assert_same(loop.final, _by_position(call.final_params, loop))
    assert call.initial_params is None  # created by training's first forward: see the next test


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
        for step in loop.full:
            assert step.clipped_grads is not None and step.params_after is not None
            for p in loop.names:
                assert np.array_equal(step.params_after[p], step.params_before[p] - step.clipped_grads[p]), p
                if step.grad_norm <= 1:
                    assert np.array_equal(step.clipped_grads[p], step.grads[p]), p
            squares = sum(float(np.square(g, dtype=np.float64).sum()) for g in step.grads.values())
            assert step.grad_norm == pytest.approx(np.sqrt(squares), rel=1e-6)
        _assert_same(loop.full[1].params_before, loop.full[0].params_after)
        assert [s.loss for s in loop.full] == loop.losses[:FULL].tolist()


def _replay_all(loops: list[recorded.RecordedLoop], model: str):
    from djl_bridge.models import build_model
    from djl_bridge.replay import first_divergence, replay

    net = build_model(model, 29, 8)  # one port model for the notebook's loops, in order
    out = []
    for loop in loops:
        replayed = replay(loop, net, lr=1)
        out.append((replayed, first_divergence(loop, replayed)))
    return out


@pytest.mark.parametrize("name,model", [("lstm-small", "lstm"), ("scratch-small", "rnn-scratch")])
def test_a_replay_on_the_port_is_bit_identical_on_djls_pytorch_engine(runs, name, model):
    loops = runs["pytorch", name].loops
    for loop, (replayed, divergence) in zip(loops, _replay_all(loops, model)):
        assert divergence is None, divergence.message
        assert replayed.losses.tobytes() == loop.losses.tobytes()
        assert replayed.grad_norms.tobytes() == loop.grad_norms.tobytes()
        _assert_same(replayed.final, loop.final)


def test_a_one_line_change_in_the_loop_is_found_where_clipping_first_bites(jvm, data_file, tmp_path):
    """The notebook clips at 0.5 instead of 1; the port (which clips at 1) parts from it at the first
    step whose gradient norm exceeds 0.5, and names that step's update."""
    clip = "clipGradients(net.params, 1, sub);"
    variant = _variant(tmp_path, "scratch-clip.ipynb", (clip, clip.replace("1", "0.5")))
    loops = run_here(variant, ["keep-stop-gradient"], data_file).loops
    bites = int(np.flatnonzero(loops[0].grad_norms > 0.5)[0])
    assert 0 < bites < len(loops[0].losses) - 1  # this notebook's norms start below 0.5
    (_replayed, divergence), _second = _replay_all(loops, "rnn-scratch")
    assert (divergence.step, divergence.stage) == (bites, "update")
    assert divergence.message.startswith(f"step {bites} (epoch 1, batch {bites + 1}): its update differs")


def _variant(tmp_path: Path, name: str, *changes: tuple[str, str]) -> Path:
    """scratch-small with pieces of its code replaced (each must be there)."""
    nb = json.loads((BOOK / "scratch-small.ipynb").read_text())
    for old, new in changes:
        cell = next(c for c in nb["cells"] if old in "".join(c["source"]))
        cell["source"] = "".join(cell["source"]).replace(old, new).splitlines(keepends=True)
    target = tmp_path / name
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
    from djl_bridge.notebook.executor import execute
    from djl_bridge.notebook.session import diagnose_failure

    recorded.record(FULL)
    try:
        run = execute(_plan(BOOK / "scratch-small.ipynb", []), data_file, EPOCHS, SEED)
        try:
            diagnose_failure(run)
            assert run.failure is not None and run.failure.known == "djl-discarded-stop-gradient"
            assert "Trying to backward through the graph a second time" in run.failure.message
        finally:
            run.close()
        (loop,) = recorded.read_loops()
    finally:
        recorded.stop()
    assert len(loop.losses) == 1 and loop.full[0].params_after is not None


def _numbers(r: Ran) -> list:
    """Everything the notebook computed: the final weights and its output, tokens/s left out."""
    return [[(n, a.tobytes()) for n, a in c.final_params] for c in r.calls] + [_SPEED.sub("", r.printed)]


def test_recording_off_leaves_the_notebook_unchanged(runs, jvm, data_file):
    """The same notebook and seed with the hooks installed but the switch off: the same numbers."""
    on = runs["pytorch", "scratch-small"]
    recorded.record(FULL)  # forgets earlier loops
    recorded.stop()
    off = run_here(BOOK / "scratch-small.ipynb", SCRATCH_PATCHES["pytorch"], data_file, record=False)
    assert _numbers(off) == _numbers(on)
    assert off.loops == []  # nothing was recorded while off


def test_on_mxnet_a_jvm_without_the_agent_computes_the_same(runs, data_file):
    """The worker without a recorder never installs the agent: the recorded run's numbers are its numbers."""
    plain = run_worker(BOOK / "scratch-small.ipynb", [], data_file, record=False)
    assert _numbers(plain) == _numbers(runs["mxnet", "scratch-small"])


def _training_speed(data_file: Path, record: bool, epochs: int) -> tuple[float, float]:
    """lstm-small's training snippet: tokens per second, and per CPU second of this process (both JVM
    and Python; robust to other processes' load)."""
    from djl_bridge.notebook.executor import execute, observe

    marks = []

    def mark(*_args) -> None:
        marks.append((time.perf_counter(), time.process_time()))

    if record:
        recorded.record(FULL)
    try:
        ended = lambda text: mark() if "perplexity: " in text else None  # noqa: E731  the training call printed
        run = execute(_plan(BOOK / "lstm-small.ipynb", []), data_file, epochs, SEED, mark, ended)
        try:
            observe(run)
            tokens = epochs * len(run.data.batches_x) * BATCH * NUM_STEPS
        finally:
            run.close()
    finally:
        recorded.stop()
    (wall0, cpu0), (wall1, cpu1) = marks
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
    assert recorded.epoch_starts(none[:3], xs, ys) == ([0], period)  # never repeats: one epoch
    same_x = np.concatenate([xs] * 2)
    other_y = np.concatenate([ys, ys + 1])  # the inputs repeat, the labels do not
    assert recorded.epoch_starts(none[:6], same_x, other_y) == ([0], period)
    flags = np.array([True, False, False, True, False, False])
    assert recorded.epoch_starts(flags, same_x, other_y) == ([0, 3], "dataset")
