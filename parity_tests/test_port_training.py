"""Training arithmetic by hand, a short real run, fast vs parity, CUDA when present."""

import math

import numpy as np
import pytest
import torch

from djl_bridge.dataset import TimeMachineDataset
from djl_bridge.models import build_model
from djl_bridge.params import djl_names, init_djl_
from djl_bridge.plots import plot_perplexity
from djl_bridge.text import load_corpus_time_machine
from djl_bridge.trace import java_1f
from djl_bridge.training import (
    Accumulator,
    _djl_sgd_step,
    grad_clipping,
    loss_fn,
    sgd,
    train_epoch_ch8,
)


@pytest.mark.parametrize("mode", ["parity", "fast"])
def test_loss_by_hand(mode):
    logits = torch.tensor([[0.0, 0.0], [math.log(3), 0.0]])
    labels = torch.tensor([0, 1], dtype=torch.int32)
    # row 0: -log(1/2); row 1: softmax = (3/4, 1/4), -log(1/4)
    assert loss_fn(logits, labels, mode).item() == pytest.approx(1.5 * math.log(2), rel=1e-6)


def _params_with_grads(*grads):
    params = [torch.zeros(len(g), requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g)
    return params


@pytest.mark.parametrize("mode", ["parity", "fast"])
def test_clipping_norm_5_to_1(mode):
    params = _params_with_grads([3.0, 0.0], [4.0])
    clip = grad_clipping(params, 1, mode)
    assert clip.norm == pytest.approx(5.0) and clip.sq == pytest.approx([9.0, 16.0], rel=1e-6)
    assert params[0].grad.tolist() == pytest.approx([0.6, 0.0], rel=1e-5)
    assert params[1].grad.tolist() == pytest.approx([0.8], rel=1e-5)


def test_clipping_below_theta_untouched():
    params = _params_with_grads([0.6], [0.0])
    assert grad_clipping(params, 1).norm == pytest.approx(0.6)
    assert params[0].grad.tolist() == [pytest.approx(0.6)]


def test_sgd_steps():
    (w,) = _params_with_grads([0.5, -1.0])
    with torch.no_grad():
        w += torch.tensor([1.0, 2.0])
    _djl_sgd_step([w], 2)  # w - 2 g, then the gradient is zeroed
    assert w.tolist() == [0.0, 4.0] and w.grad.tolist() == [0.0, 0.0]
    (v,) = _params_with_grads([0.5, -1.0])
    sgd([v], 1, 2)  # v - g * 1 / 2, gradient kept
    assert v.tolist() == [-0.25, 0.5] and v.grad.tolist() == [0.5, -1.0]


def test_accumulator_is_float32():
    acc = Accumulator(2)
    acc.add(1e8, 1)
    acc.add(1, 1)
    assert acc[0] == np.float32(1e8) and acc[1] == 2


def test_java_format():
    assert java_1f(0.25) == "0.3" and java_1f(12345.678) == "12345.7" and java_1f(1.0) == "1.0"


def test_scratch_lstm_matches_torch_lstm():
    V, H = 6, 5
    scratch = build_model("lstm-scratch", V, H)
    init_djl_(scratch, torch.Generator().manual_seed(1))
    with torch.no_grad():
        for b in ("b_i", "b_f", "b_o", "b_c", "b_q"):
            getattr(scratch, b).normal_()
    ref = build_model("lstm", V, H, 1)
    with torch.no_grad():  # torch gate order i, f, g(c), o
        s = scratch
        ref.rnn.weight_ih_l0.copy_(torch.cat([s.W_xi.T, s.W_xf.T, s.W_xc.T, s.W_xo.T]))
        ref.rnn.weight_hh_l0.copy_(torch.cat([s.W_hi.T, s.W_hf.T, s.W_hc.T, s.W_ho.T]))
        ref.rnn.bias_ih_l0.copy_(torch.cat([s.b_i, s.b_f, s.b_c, s.b_o]))
        ref.rnn.bias_hh_l0.zero_()
        ref.linear.weight.copy_(s.W_hq.T)
        ref.linear.bias.copy_(s.b_q)
    X = torch.randint(0, V, (3, 4))
    Y, (h, c) = scratch(X, scratch.begin_state(3))
    Y_ref, (h_ref, c_ref) = ref(X)
    torch.testing.assert_close(Y, Y_ref)
    torch.testing.assert_close(h, h_ref[0])


@pytest.fixture(scope="module")
def small(data_file):
    corpus, vocab = load_corpus_time_machine(data_file, max_tokens=2000)
    return TimeMachineDataset(corpus, 8, 35, offset=3), vocab


def _model(name, vocab, hidden=32, layers=1):
    net = build_model(name, len(vocab), hidden, layers)
    init_djl_(net, torch.Generator().manual_seed(0))
    return net


def test_short_training_run(data_file, tmp_path):
    from djl_bridge.config import RunConfig
    from djl_bridge.sides.port import run
    from djl_bridge.trace import Request

    cfg = RunConfig(model="bilstm", hidden=32, max_tokens=2000, batch_size=8, epochs=6, offset=3, device="cpu")
    trace = run(Request(cfg.resolved(), str(data_file), full_steps=1))
    ppl = trace.perplexities
    assert ppl[-1] < ppl[0] < 30 and len(ppl) == 6
    assert trace.printed[0].startswith("perplexity: ") and trace.printed[0].endswith("on cpu()")
    assert len(trace.losses) == len(trace.grad_norms) == 6 * len(trace.data.batches_x) and len(trace.steps) == 1
    first, second = trace.printed[1:]
    assert first.startswith("time traveller") and len(first) == 14 + 50
    assert second.startswith("traveller") and len(second) == 9 + 50
    plot_perplexity(list(range(1, 7)), {"port": ppl}, tmp_path / "ppl.png")
    assert (tmp_path / "ppl.png").stat().st_size > 1000


def test_step_hook_records(small):
    dataset, vocab = small
    records = []
    net = _model("lstm", vocab)
    train_epoch_ch8(net, dataset.batches(), 1, torch.device("cpu"), False, step_hook=records.append)
    assert len(records) == dataset.num_batches
    r0, r1 = records[:2]
    assert r0.state_in is None and len(r1.state_in) == 2
    assert list(r0.grads_before) == djl_names(net)
    norm_after = math.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in r0.grads_after.values()))
    assert norm_after == pytest.approx(min(r0.grad_norm, 1.0), rel=1e-5)
    assert r0.logits.shape == (8 * 35, len(vocab))
    assert np.array_equal(r1.state_in[0].numpy(), r0.state_out[0].numpy())


def test_scratch_gradients_accumulate_unless_zeroed(small):
    dataset, vocab = small
    norms = {}
    for zero in (False, True):
        records = []
        net = _model("rnn-scratch", vocab)
        batches = list(dataset.batches())[:2]
        train_epoch_ch8(net, batches, 1, torch.device("cpu"), False, step_hook=records.append, zero_scratch_grads=zero)
        norms[zero] = records[1].grads_before["W_hq"]
    assert not np.allclose(norms[False], norms[True])


def test_a_loop_that_starts_with_a_carried_state_starts_a_scratch_model_from_zeros(small):
    """A recorded loop may mark its first step "carried" (the notebook passed in a state it began itself);
    with nothing carried yet the port starts from the model's begin_state, as a fresh step does."""
    dataset, vocab = small
    batches = list(dataset.batches())[:3]
    finals = []
    for carried in ([False, True, True], [True, True, True]):
        net = _model("gru-scratch", vocab)
        train_epoch_ch8(net, batches, 1, torch.device("cpu"), False, carried=carried)
        finals.append([p.detach().clone() for p in net.params])
    for a, b in zip(*finals):
        assert torch.equal(a, b)


def test_reversed_rows_change_only_the_order_of_every_sum_over_rows(data_file):
    """The envelope's rounding run feeds each batch's rows in reverse: the forward is the same bits (rows are
    independent), while the loss and the gradients, sums over rows, round differently, by a few ULP."""
    from dataclasses import replace

    from djl_bridge.config import RunConfig
    from djl_bridge.sides.port import run
    from djl_bridge.trace import Request

    cfg = RunConfig(model="lstm", hidden=32, max_tokens=2000, batch_size=8, epochs=1, offset=3, device="cpu")
    request = Request(cfg.resolved(), str(data_file), full_steps=1)
    a, b = run(request), run(replace(request, reversed_rows=True))
    assert np.array_equal(a.steps[0].logits, b.steps[0].logits)
    assert all(np.array_equal(a.steps[0].state[k], b.steps[0].state[k]) for k in a.steps[0].state)
    grads = [(a.steps[0].grads[k], b.steps[0].grads[k]) for k in a.steps[0].grads]
    assert any(not np.array_equal(x, y) for x, y in grads)
    assert all(np.allclose(x, y, rtol=0, atol=1e-7) for x, y in grads)
    assert a.losses != b.losses and np.allclose(a.losses, b.losses, rtol=1e-5)


def test_fast_and_parity_agree(small):
    dataset, vocab = small
    batches = list(dataset.batches())[:3]
    out = {}
    for mode in ("parity", "fast"):
        records = []
        net = _model("lstm", vocab)
        train_epoch_ch8(net, batches, 1, torch.device("cpu"), False, mode, records.append)
        out[mode] = records
    for p, f in zip(out["parity"], out["fast"]):
        assert p.loss == pytest.approx(f.loss, rel=1e-5)
        for name in p.params_after:  # stated tolerance: 1e-5 absolute after 3 steps
            np.testing.assert_allclose(p.params_after[name], f.params_after[name], atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("mode", ["parity", "fast"])
def test_cuda_training(data_file, mode):
    from djl_bridge.config import RunConfig
    from djl_bridge.sides.port import run
    from djl_bridge.trace import Request

    cfg = RunConfig(
        model="bilstm", hidden=32, max_tokens=2000, batch_size=8, epochs=3, offset=3, device="cuda", mode=mode
    )
    trace = run(Request(cfg.resolved(), str(data_file)))
    assert trace.perplexities[-1] < trace.perplexities[0]
    assert trace.printed[0].endswith("on gpu(0)")
