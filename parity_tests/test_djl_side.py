"""The Java side on real DJL: the published notebook's failure, training runs, parameter round trips."""

from __future__ import annotations

import numpy as np
import pytest

from djl_bridge.config import RunConfig


def test_published_bilstm_fails_on_djl_pytorch_engine(data_file, java_trace):
    trace = java_trace(RunConfig(model="bilstm", hidden=8, max_tokens=1200, epochs=1), data_file, probe=True)
    failure = trace.published_failure
    assert failure is not None, "the published bi-LSTM ran: the djl-bilstm-parameter-layout entry no longer holds"
    assert "ai.djl.pytorch.jni.PyTorchLibrary.torchNNLstm" in failure.stack_trace
    assert trace.failure is not None and trace.failure.root() == failure.root()  # training it fails the same way


def test_unidirectional_lstm_runs_as_published(data_file, java_trace):
    trace = java_trace(RunConfig(model="deep-lstm", hidden=8, max_tokens=1200, epochs=1), data_file, probe=True)
    assert trace.published_failure is None and trace.failure is None


@pytest.mark.parametrize(
    "model,extra", [("lstm", {}), ("gru", {}), ("rnn-scratch", {}), ("bilstm", {"layout_fix": True})]
)
def test_java_training_perplexity_falls(model, extra, data_file):
    from djl_bridge.sides import java
    from djl_bridge.trace import Request

    seen = []
    cfg = RunConfig(model=model, hidden=32, max_tokens=2000, epochs=4, offset=0, **extra).resolved()
    trace = java.run(Request(cfg, str(data_file), full_steps=0), "pytorch", lambda e, p, s: seen.append(e))
    assert seen == [1, 2, 3, 4] and trace.failure is None
    assert trace.perplexities[-1] < trace.perplexities[0]
    assert trace.printed[0].startswith("perplexity: ") and trace.printed[0].endswith("tokens/sec on cpu()")
    assert all(len(trace.predictions[p]) == len(p) + 50 for p in trace.predictions)
    assert trace.printed[1:] == [trace.predictions[p] for p in ("time traveller", "traveller")]
    assert ("layout-fix" in " ".join(trace.deviations)) == bool(extra)
    assert len(trace.losses) == len(trace.grad_norms) == len(trace.grad_sq) == 4 * len(trace.data.batches_x)


@pytest.mark.parametrize(
    "model", ["rnn", "gru", "lstm", "deep-lstm", "bilstm", "rnn-scratch", "gru-scratch", "lstm-scratch"]
)
def test_parameters_round_trip_bit_exact_through_the_mapping(model, data_file, jvm):
    import torch

    from djl_bridge.jvm import jclass, to_ndarray, to_numpy
    from djl_bridge.jvm.helpers import _input_shape, prepare
    from djl_bridge.models import build_model
    from djl_bridge.params import djl_names, from_djl, to_djl

    cfg = RunConfig(
        model=model, hidden=8, layers=2 if model in ("deep-lstm", "bilstm") else None, max_tokens=1200, layout_fix=True
    ).resolved()
    setup = prepare(cfg, data_file)
    Params = jclass("org.djlparity.bridge.Params")
    try:
        Params.initialize(setup.net, setup.manager, _input_shape(cfg))
        names = [str(n) for n in Params.names(setup.net)]
        java = {n: to_numpy(Params.get(setup.net, n)) for n in names}
        net = build_model(model, int(setup.vocab.length()), cfg.hidden, cfg.layers)
        assert djl_names(net) == names
        from_djl(net, java)
        with torch.no_grad():
            for p in net.parameters():
                p.mul_(-2)  # a change Java must receive exactly
        back = to_djl(net)
        for n in names:
            Params.set(setup.net, n, to_ndarray(setup.manager, back[n]))
        for n in names:
            got = to_numpy(Params.get(setup.net, n))
            assert got.tobytes() == (java[n] * np.float32(-2)).tobytes(), n
    finally:
        setup.manager.close()


def test_djl_scalar_operand_is_freed_before_backward(jvm):
    """DJL bug: W.mul(-3) in a GradientCollector, a GC before backward, and the gradient is garbage."""
    import jpype

    from djl_bridge.jvm import java_call, jclass, to_numpy

    manager = jclass("ai.djl.ndarray.NDManager").newBaseManager()
    Shape, System = jclass("ai.djl.ndarray.types.Shape"), jclass("java.lang.System")
    engine = jclass("ai.djl.engine.Engine").getInstance()
    kept = manager.create(jpype.JInt(-3))  # the same 0-d int32 operand, alive until backward
    corrupted = {}
    with java_call():
        for name, operand in (("java number", jclass("java.lang.Integer")(-3)), ("kept array", kept)):
            wrong = 0
            for _ in range(5):
                w = manager.ones(Shape(64, 64))
                w.setRequiresGradient(True)
                collector = engine.newGradientCollector()
                y = w.mul(operand).sum()
                for _ in range(3):
                    System.gc()
                [manager.create(jpype.JInt(12345)) for _ in range(2000)]  # reuse the freed memory
                collector.backward(y)
                collector.close()
                wrong += not np.all(to_numpy(w.getGradient()) == -3)
            corrupted[name] = wrong
    manager.close()
    assert corrupted["java number"] > 0 and corrupted["kept array"] == 0, corrupted
