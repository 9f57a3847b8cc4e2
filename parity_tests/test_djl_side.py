"""The Java side on real DJL: the published notebook's failure, training runs, parameter round trips."""

from __future__ import annotations

import numpy as np
import pytest

from djl_bridge.config import RunConfig


def test_published_bilstm_fails_on_djl_pytorch_engine(data_file, jvm):
    from djl_bridge.jvm.djl_side import probe_as_published

    failure = probe_as_published(RunConfig(model="bilstm", hidden=8, max_tokens=1200), data_file)
    assert failure is not None, "the published bi-LSTM ran: the djl-bilstm-parameter-layout entry no longer holds"
    assert "ai.djl.pytorch.jni.PyTorchLibrary.torchNNLstm" in failure.stack_trace


def test_unidirectional_lstm_runs_as_published(data_file, jvm):
    from djl_bridge.jvm.djl_side import probe_as_published

    assert probe_as_published(RunConfig(model="deep-lstm", hidden=8, max_tokens=1200), data_file) is None


@pytest.mark.parametrize(
    "model,extra", [("lstm", {}), ("gru", {}), ("rnn-scratch", {}), ("bilstm", {"layout_fix": True})]
)
def test_java_training_perplexity_falls(model, extra, data_file, jvm):
    from djl_bridge.jvm.djl_side import run_djl

    seen = []
    cfg = RunConfig(model=model, hidden=32, max_tokens=2000, epochs=4, offset=0, **extra)
    result = run_djl(cfg, data_file, lambda e, p, s: seen.append(e))
    assert seen == [1, 2, 3, 4]
    assert result.perplexities[-1] < result.perplexities[0]
    assert result.final_line.startswith("perplexity: ") and result.final_line.endswith("tokens/sec on cpu()")
    assert all(len(result.predictions[p]) == len(p) + 50 for p in result.predictions)
    assert ("layout-fix" in " ".join(result.deviations)) == bool(extra)


@pytest.mark.parametrize(
    "model", ["rnn", "gru", "lstm", "deep-lstm", "bilstm", "rnn-scratch", "gru-scratch", "lstm-scratch"]
)
def test_parameters_round_trip_bit_exact_through_the_mapping(model, data_file, jvm):
    import torch

    from djl_bridge.jvm import jclass, to_ndarray, to_numpy
    from djl_bridge.jvm.djl_side import _input_shape, prepare
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
