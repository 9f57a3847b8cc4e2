"""The notebook's own engine: our Java helpers on DJL 0.23 + MXNet in a worker, against the port.

Real worker processes, real JVMs, real MXNet 1.9; small configs (hidden 32, 2,000 tokens).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from djl_bridge.config import RunConfig
from djl_bridge.parity.compare import IDENTICAL, WITHIN

SMALL = dict(hidden=32, max_tokens=2000, epochs=3, offset=3, device="cpu")
_reports: dict[str, object] = {}


def _mxnet_compare(model: str, data_file: Path):
    """compare --engine mxnet on a small config, once per model per session."""
    if model not in _reports:
        from djl_bridge.flows.compare import compare

        _reports[model] = compare(RunConfig(model=model, **SMALL), data_file, "mxnet")
    return _reports[model]


def _run(engine: str, cfg: RunConfig, data_file: Path, on_event, timeout: float):
    """One worker run of our helpers, hearing every event (the worker's pid among them)."""
    from djl_bridge.sides.worker import run_worker
    from djl_bridge.trace import Request

    return run_worker(engine, {"op": "run", "request": Request(cfg.resolved(), str(data_file))}, on_event, timeout)


def _stage(report, name: str):
    return next(s for s in report.stages if s.stage == name)


@pytest.mark.parametrize("model", ["bilstm", "lstm", "gru", "rnn-scratch", "lstm-scratch"])
def test_mxnet_side_matches_the_port_within_the_envelope(model, data_file):
    report = _mxnet_compare(model, data_file)
    bad = [(s.stage, s.status, s.first_bad, s.note) for s in report.stages if not s.passed]
    assert report.outcome == "PASS", bad
    for name in ("lines", "vocab", "corpus", "batches.x", "batches.y", "init.transfer"):
        assert _stage(report, name).status == IDENTICAL
    # a real cross-engine comparison: the engines do round differently somewhere
    assert any(s.status == WITHIN and s.cause == "engine-rounding" for s in report.stages)


def test_mxnet_draws_other_initial_weights_from_the_same_seed(data_file):
    stage = _stage(_mxnet_compare("lstm", data_file), "init.independent")
    assert stage.status == WITHIN and stage.cause == "mxnet-random-init"
    assert stage.mismatched > 0.9 * stage.count


def test_mxnet_reads_two_layer_weights_in_its_own_flat_layout(data_file):
    """(a) DJL 0.23's flat vector vs MXNet's fused RNN op: scrambled for 2 layers, not for 1."""
    two = _mxnet_compare("bilstm", data_file)
    scrambled = _stage(two, "layout.step1_logits")
    assert scrambled.status == WITHIN and scrambled.cause == "mxnet-rnn-flat-layout"
    assert scrambled.max_abs > 1e-6  # far beyond rounding: other weights were read
    emulated = _stage(two, "step1.logits")  # the port reading MXNet's layout
    assert emulated.status in (IDENTICAL, WITHIN) and emulated.max_abs < 1e-9
    one = _stage(_mxnet_compare("lstm", data_file), "layout.step1_logits")
    assert one.status in (IDENTICAL, WITHIN)  # one layer: the two orders agree


def test_mxnet_loss_rounding_and_identical_update_sequence(data_file, java_trace):
    """(c) Same logits, different loss bits (MXNet's log_softmax/mean); the same clipping and SGD arithmetic."""
    import torch

    from djl_bridge.training import loss_fn

    cfg = RunConfig(model="bilstm", **SMALL).resolved()
    t = java_trace(replace(cfg, epochs=1), data_file, "mxnet")
    s = t.steps[0]
    y = torch.from_numpy(t.data.batches_y[0]).T.reshape(-1)
    port_loss = np.float32(loss_fn(torch.from_numpy(s.logits), y, "parity").item())
    ulps = abs(int(port_loss.view(np.int32)) - int(np.float32(s.loss).view(np.int32)))
    assert 0 < ulps <= 16, ulps  # the same logits: MXNet's softmax cross-entropy rounds otherwise
    assert s.grad_norm < 1  # step 1 is not clipped: the clipped gradients are the gradients, bit for bit
    for name in s.grads:
        np.testing.assert_array_equal(s.clipped_grads[name], s.grads[name])
    for name in s.grads:  # MXNet's sgd_update (no weight decay, rescale 1) is w - lr*g, as on libtorch
        expected = (t.init[name] - np.float32(cfg.lr) * s.clipped_grads[name]).astype(np.float32)
        np.testing.assert_array_equal(s.params_after[name], expected)


@pytest.mark.parametrize("engine,library", [("mxnet", "libmxnet"), ("pytorch", "torch")])
def test_worker_never_imports_torch_and_parent_never_maps_its_library(engine, library, data_file, java_trace):
    t = java_trace(RunConfig(model="rnn-scratch", **{**SMALL, "epochs": 1}), data_file, engine)
    assert t.environment["torch imported in the worker"] == "False"
    native = t.environment["native library"]
    assert library in native
    maps = Path("/proc/self/maps").read_text()
    assert "libmxnet" not in maps  # this process never maps MXNet (its own in-process JVM, if any, runs PyTorch)
    if engine == "mxnet":
        assert str(Path(native).parent) not in maps  # nor anything else from MXNet's native folder


def test_killing_the_worker_mid_run_is_a_clear_error(data_file):
    from djl_bridge.sides import worker

    pid = {}

    def on_event(event: dict) -> None:
        if event["event"] == "started":
            pid["worker"] = event["pid"]
        if event["event"] == "epoch" and event["epoch"] == 1:
            os.kill(pid["worker"], signal.SIGKILL)

    cfg = RunConfig(model="lstm", **{**SMALL, "epochs": 3})
    t0 = time.monotonic()
    with pytest.raises(worker.WorkerFailed, match="was killed by SIGKILL before answering"):
        _run("mxnet", cfg, data_file, on_event, 120)
    assert time.monotonic() - t0 < 120
    with pytest.raises(ProcessLookupError):
        os.kill(pid["worker"], 0)  # reaped, not a zombie


def test_a_hung_worker_is_stopped_after_the_timeout(data_file):
    from djl_bridge.sides import worker

    pid = {}

    def on_event(event: dict) -> None:
        if event["event"] == "started":
            pid["worker"] = event["pid"]
            os.kill(event["pid"], signal.SIGSTOP)  # a worker that never answers again

    cfg = RunConfig(model="lstm", **{**SMALL, "epochs": 1})
    t0 = time.monotonic()
    with pytest.raises(worker.WorkerFailed, match="sent nothing for 5 s"):
        _run("mxnet", cfg, data_file, on_event, 5)
    assert time.monotonic() - t0 < 30
    with pytest.raises(ProcessLookupError):
        os.kill(pid["worker"], 0)


def test_missing_engine_build_is_exit_3(tmp_path, data_file):
    env = {**os.environ, "DJL_PARITY_JAVA_DIR": str(tmp_path)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "djl_bridge.cli",
            "train",
            "--impl",
            "djl",
            "--engine",
            "mxnet",
            "--epochs",
            "1",
            "--hidden",
            "8",
            "--max-tokens",
            "2000",
            "--out",
            str(tmp_path / "o"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 3, proc.stderr
    assert "engine mxnet is not built" in proc.stderr and "djl-parity setup" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_discarded_stop_gradient_is_harmless_on_mxnet_and_fatal_on_pytorch(data_file, java_trace):
    """(b) The published loop drops stopGradient()'s result: MXNet releases the graph at backward, libtorch keeps it."""
    cfg = RunConfig(model="lstm", **{**SMALL, "epochs": 2, "max_tokens": 4000}).resolved()  # 3 batches an epoch
    detached = java_trace(cfg, data_file, "mxnet")
    published = java_trace(cfg, data_file, "mxnet", discard_stop_gradient=True)
    assert len(published.losses) == 6
    assert published.losses == detached.losses
    for name in detached.final:
        np.testing.assert_array_equal(published.final[name], detached.final[name])
    on_pytorch = java_trace(cfg, data_file, "pytorch", discard_stop_gradient=True)
    assert on_pytorch.failure is not None and "backward through the graph a second time" in on_pytorch.failure.message


def test_the_envelope_fails_a_run_outside_it_and_names_where(data_file, java_trace, port_trace):
    """The judgement can fail: a loss off at step 2, a parameter off at the end, the wrong layout."""
    from djl_bridge.flows.compare import envelope_of
    from djl_bridge.parity.verdicts import judge_run
    from djl_bridge.trace import Request

    cfg = RunConfig(model="bilstm", **SMALL).resolved()
    java = java_trace(cfg, data_file, "mxnet")
    python = port_trace(cfg.emulating("mxnet"), data_file, init=java.init)
    envelope, _ = envelope_of(python, Request(cfg.emulating("mxnet"), str(data_file)), lambda _m: None)
    assert all(s.passed for s in judge_run(java, python, cfg, "mxnet", envelope))

    losses = list(python.losses)
    losses[1] += 1e-3
    final = {k: v.copy() for k, v in python.final.items()}
    final["02linear_bias"][3] += 1e-3
    stages = {s.stage: s for s in judge_run(java, replace(python, losses=losses, final=final), cfg, "mxnet", envelope)}
    assert not stages["steps.loss"].passed and stages["steps.loss"].first_bad == "step 2"
    assert not stages["final.params"].passed and "02linear_bias" in stages["final.params"].first_bad

    scrambled = port_trace(cfg, data_file, init=java.init)  # the port reading DJL's parameters by name
    stages = {s.stage: s for s in judge_run(java, scrambled, cfg, "mxnet", envelope)}
    assert not stages["step1.logits"].passed


def test_pytorch_native_worker_is_bit_identical_to_the_pip_wheel(data_file):
    """DJL's own libtorch 2.7.1 build in a worker against the port on the pip wheel's: every stage identical."""
    from djl_bridge.flows.compare import compare

    report = compare(RunConfig(model="lstm", **{**SMALL, "epochs": 2}), data_file, "pytorch-native")
    assert report.outcome == "PASS", [(s.stage, s.status, s.note) for s in report.stages if not s.passed]
    assert all(s.status == IDENTICAL for s in report.stages), [(s.stage, s.status) for s in report.stages]
    native = report.environment["java: native library"]
    assert "pytorch" in native and ".venv" not in native


def test_port_reads_mxnets_flat_layout_only_where_it_differs():
    """One layer: MXNet's reading is DJL's (bit-identical forward); two: layer 1 starts with layer 0's biases."""
    import torch

    from djl_bridge.models import build_model
    from djl_bridge.params import djl_parameters, seeded_model

    X = torch.randint(0, 29, (4, 5))
    one = seeded_model("bilstm", 29, 8, 1, 0)
    with torch.no_grad():
        for _, p in djl_parameters(one):
            p.add_(0.1)  # non-zero biases
        by_name = one(X)[0]
        one.flat_layout = "mxnet"
        assert torch.equal(one(X)[0], by_name)
    two = build_model("bilstm", 29, 8, 2, "mxnet")
    with torch.no_grad():
        for i, (_, p) in enumerate(djl_parameters(two)):
            p.fill_(float(i))  # each DJL parameter holds its own index
    read = two.mxnet_flat_weights()  # [w_ih, w_hh, b_ih, b_hh] per (layer, direction)
    names = [n for n, _ in djl_parameters(two)]
    assert torch.all(read[0] == names.index("01rnn_l_0_i2h_WEIGHT"))  # layer 0's weights: in place
    layer1_l_ih = read[8].reshape(-1)
    assert layer1_l_ih[0] == names.index("01rnn_l_0_i2h_BIAS")  # layer 1 reads layer 0's biases first
    assert not torch.all(read[2] == names.index("01rnn_l_0_i2h_BIAS"))  # and layer 0's biases are elsewhere


def test_the_wire_format_round_trips_a_trace_exactly(tmp_path):
    from djl_bridge.sides import wire
    from djl_bridge.trace import Data, Failure, Step, Trace

    rng = np.random.default_rng(0)
    step = Step(
        rng.random((4, 3), np.float32),
        {"H": np.zeros((2, 1, 3), np.float32)},
        np.float32(1.5),
        {"w": rng.random(5).astype(np.float32)},
        np.float64(0.25),
        {"w": np.zeros(5, np.float32)},
        {"w": np.full(5, -0.0, np.float32)},
    )
    data = Data(
        ["a b"],
        ["a"],
        ["<unk>", ""],
        [1, 2],
        3,
        np.arange(6, dtype=np.int32).reshape(1, 2, 3),
        np.zeros((1, 2, 0), np.int32),
    )
    trace = Trace(
        "djl:mxnet",
        {"k": "v"},
        data,
        steps=[step],
        losses=[1.0],
        grad_sq=[[0.5, 0.25]],
        perplexities=[2.0],
        predictions={"p": "q"},
        failure=Failure("X", "m", "trace"),
    )
    wire.write(tmp_path, "m", {"trace": trace})
    back = wire.rebuild(Trace, wire.read(tmp_path, "m")["trace"])
    assert back.data.vocab == ["<unk>", ""] and back.data.offset == 3 and back.predictions == {"p": "q"}
    assert back.data.batches_x.dtype == np.int32 and back.data.batches_y.shape == (1, 2, 0)
    s = back.steps[0]
    assert s.loss.shape == () and s.loss.dtype == np.float32 and s.loss == 1.5
    assert (
        s.grad_norm.dtype == np.float64 and back.grad_sq == [[0.5, 0.25]] and back.failure == Failure("X", "m", "trace")
    )
    np.testing.assert_array_equal(s.logits, step.logits)
    assert np.signbit(s.params_after["w"]).all()  # bytes, not values: -0.0 stays -0.0


def test_mxnet_overwrites_scratch_gradients_where_pytorch_accumulates(data_file, java_trace, port_trace):
    """(d) MXNet writes each backward's gradients (grad_req write); DJL's PyTorch engine adds them up."""
    cfg = RunConfig(model="rnn-scratch", **SMALL).resolved()  # one batch an epoch: step 2 is epoch 2's
    java = java_trace(cfg, data_file, "mxnet")
    overwrite = port_trace(cfg.emulating("mxnet"), data_file, init=java.init)
    accumulate = port_trace(cfg, data_file, init=java.init)
    assert overwrite.losses[0] == accumulate.losses[0]  # the first step cannot tell them apart
    near = abs(java.losses[2] - overwrite.losses[2])
    far = abs(java.losses[2] - accumulate.losses[2])
    assert near < 1e-4 < far, (near, far)


def test_the_wire_format_rebuilds_a_notebook_result_with_its_figures(tmp_path):
    """Nested frozen dataclasses in variable-length tuples (a figure's traces) come back as themselves."""
    from djl_bridge.notebook.figures import Figure
    from djl_bridge.notebook.figures import Trace as Line
    from djl_bridge.notebook.result import CellFailure, NotebookResult, Snippet
    from djl_bridge.sides import wire

    figure = Figure(3, "display", "d1", "t", "epoch", "ppl", (Line("scatter", "ppl", "lines", (1.0, "b"), (2.0, 3.0)),))
    failure = CellFailure(4, "cell", 2, "runtime", "java.lang.X", "m", ["f (cell line 2)"])
    result = NotebookResult(failure, [Snippet(1, "cell", 1, "out\n")], [], [figure], [("ppl", 1.0, 2.0)], [], [], [])
    wire.write(tmp_path, "r", {"result": result})
    back = wire.rebuild(NotebookResult, wire.read(tmp_path, "r")["result"])
    assert back.figures == [figure] and hash(back.figures[0]) == hash(figure)  # png_bytes caches on the figure
    assert back.failure == failure and back.snippets == result.snippets
