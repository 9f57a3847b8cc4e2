"""birnn-hand: hand-derived gradients against autograd and finite differences on both sides, no
autograd in its training, the state it carries, and the cautionary finding measured."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from djl_bridge.birnn_hand import BiRnnHand, causal_perplexity
from djl_bridge.gradcheck import problems as gc_problems
from djl_bridge.gradcheck import run as gradcheck
from djl_bridge.models import build_model
from djl_bridge.params import init_djl_
from djl_bridge.training import loss_fn, train_epoch_ch8

ALL_PARAMS = ["U", "W", "b_h", "U_r", "W_r", "b_r", "V", "V_r", "b_q", "h_0", "g_end"]


def _worst(rows, side, check):
    return {r.param: r.error for r in rows if r.side == side and r.check == check}


@pytest.mark.parametrize("side", ["python", "java"])
def test_hand_gradients_match_autograd_in_float64(side):
    rows = gradcheck.run("birnn-hand", seed=1, sides=(side,))
    errors = _worst(rows, side, "hand-vs-autograd")
    assert list(errors) == ALL_PARAMS  # the learned boundaries included
    assert max(errors.values()) <= 1e-10, errors
    fd = _worst(rows, side, "finite-diff")
    assert list(fd) == ALL_PARAMS and max(fd.values()) <= gc_problems.THRESHOLDS["finite-diff"], fd


def test_a_wrong_gradient_is_caught():
    """Claiming a carried state when h_0 was in fact the boundary drops h_0's gradient: caught."""
    torch.manual_seed(0)
    net = BiRnnHand(7, 4, bias=True, learn_boundary=True).double()
    with torch.no_grad():
        for p in net.params:
            p.normal_(0, 0.5)
    X = torch.randint(0, 7, (3, 4), dtype=torch.int32)
    y = torch.randint(0, 7, (3, 4), dtype=torch.int32).T.reshape(-1)
    with torch.enable_grad():
        auto = torch.autograd.grad(loss_fn(net.logits_with_autograd(X, net.begin_state(3)), y), net.params)
    net.hand_step(X, y, net.begin_state(3), False, loss_fn)
    errors = {
        n: gc_problems.relative_error(p.grad.numpy(), a.numpy()) for n, p, a in zip(net.param_names, net.params, auto)
    }
    assert errors["h_0"] == 1.0 and max(e for n, e in errors.items() if n != "h_0") < 1e-12


def test_gradcheck_of_the_scratch_models_compares_djl_with_pytorch():
    rows = gradcheck.run("gru-scratch", sides=("java",))
    cross = _worst(rows, "java", "djl-vs-torch")
    assert len(cross) == 11 and max(cross.values()) <= 1e-10, cross
    assert all(r.ok for r in rows)


def test_training_uses_no_autograd(data_file):
    """The Python training step runs in inference mode, where any backward() would raise."""
    from djl_bridge.dataset import TimeMachineDataset
    from djl_bridge.text import load_corpus_time_machine

    corpus, vocab = load_corpus_time_machine(data_file, 600)
    net = build_model("birnn-hand", len(vocab), 8, bias=True, learn_boundary=True)
    init_djl_(net, torch.Generator().manual_seed(0))
    before = {n: p.detach().clone() for n, p in zip(net.param_names, net.params)}
    with torch.inference_mode():
        ppl, _ = train_epoch_ch8(
            net, TimeMachineDataset(corpus, 4, 10, offset=0).batches(torch.device("cpu")), 1, torch.device("cpu"), False
        )
    assert np.isfinite(ppl)
    assert all(not torch.equal(before[n], p) for n, p in zip(net.param_names, net.params))


def test_java_training_attaches_no_gradient(data_file, jvm):
    from djl_bridge.config import RunConfig
    from djl_bridge.jvm.helpers import _input_shape, prepare, train
    from djl_bridge.jvm.runtime import jclass
    from djl_bridge.trace import Request

    cfg = RunConfig(
        model="birnn-hand",
        hidden=8,
        max_tokens=600,
        batch_size=4,
        num_steps=10,
        epochs=1,
        offset=0,
        learn_boundary=True,
    ).resolved()
    setup = prepare(cfg, data_file)
    try:
        jclass("org.djlparity.bridge.Params").initialize(setup.net, setup.manager, _input_shape(cfg))
        trained = train(setup, Request(cfg, str(data_file), full_steps=2))
        params = setup.net.getParams()
        assert [bool(p.hasGradient()) for p in params] == [False] * len(params)
    finally:
        setup.manager.close()
    assert len(trained.steps) == 2 and np.isfinite(trained.losses).all()


def test_backward_chain_sees_the_future_and_the_forward_chain_carries():
    torch.manual_seed(0)
    net = BiRnnHand(7, 4)
    with torch.no_grad():
        for p in net.params:
            p.normal_(0, 0.5)
    X = torch.randint(0, 7, (2, 5), dtype=torch.int32)
    later = X.clone()
    later[:, -1] = (later[:, -1] + 1) % 7
    q, state = net(X, net.begin_state(2))
    q_later, _ = net(later, net.begin_state(2))
    assert not torch.equal(q[:2], q_later[:2])  # step 1's output reads the last token
    q_carried, _ = net(X, state)
    assert not torch.equal(q, q_carried)  # the carried h changes the forward chain
    torch.testing.assert_close(state[0], net(X, net.begin_state(2))[1][0], rtol=0, atol=0)


def test_low_training_perplexity_poor_causal_perplexity(data_file):
    """The cautionary finding as a measurement: training perplexity far below what the same weights
    reach when they cannot see the future (30 epochs, hidden 32: measured 3.37 against 16.8)."""
    from djl_bridge.dataset import TimeMachineDataset
    from djl_bridge.text import load_corpus_time_machine

    corpus, vocab = load_corpus_time_machine(data_file, 1500)
    dataset = TimeMachineDataset(corpus, 8, 35, offset=0)
    net = build_model("birnn-hand", len(vocab), 32)
    init_djl_(net, torch.Generator().manual_seed(0))
    cpu = torch.device("cpu")
    training = [train_epoch_ch8(net, dataset.batches(cpu), 1, cpu, False)[0] for _ in range(30)][-1]
    causal = causal_perplexity(net, dataset.batches(cpu))
    assert training < 5 and causal > 3 * training, (training, causal)


def test_compare_report_carries_the_finding(data_file):
    from djl_bridge.config import RunConfig
    from djl_bridge.flows.compare import compare
    from djl_bridge.parity.render import to_markdown

    cfg = RunConfig(model="birnn-hand", hidden=8, max_tokens=600, batch_size=4, num_steps=10, epochs=1, offset=0)
    report = compare(cfg, data_file, "pytorch")
    assert report.outcome == "PASS", report.verdict()
    assert len(report.findings) == 1 and "perplexity" in report.findings[0]
    assert "## Findings" in to_markdown(report) and report.as_json()["findings"] == list(report.findings)


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["train", "--impl", "python", "--epochs", "1", "--model", "rnn-scratch", "--bias"], "birnn-hand only"),
        (["train", "--impl", "python", "--epochs", "1", "--model", "birnn-hand", "--layers", "2"], "one layer"),
        (["gradcheck", "--model", "bilstm"], "bilstm"),
    ],
)
def test_bad_options_exit_2(args, fragment, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "djl_bridge.cli", *args], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert proc.returncode == 2 and fragment in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not list(tmp_path.iterdir())


def test_verdict_fails_on_an_error_above_its_threshold():
    rows = [gc_problems.Row("java", "hand-vs-autograd", "W", 3e-16), gc_problems.Row("java", "finite-diff", "W", 2e-6)]
    assert not rows[1].ok and gradcheck.verdict(rows).startswith("FAIL: java finite-diff W 2.00e-06")
    assert gradcheck.verdict(rows[:1]).startswith("PASS")


def test_gradcheck_command_prints_every_parameter_and_passes():
    proc = subprocess.run(
        [sys.executable, "-m", "djl_bridge.cli", "gradcheck", "--model", "birnn-hand"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    table = [ln.split() for ln in proc.stdout.splitlines()[2:-1]]
    assert {(r[0], r[1]) for r in table} == {
        (s, c) for s in ("python", "java") for c in ("hand-vs-autograd", "finite-diff")
    }
    assert all(r[-1] == "ok" for r in table) and len(table) == 4 * len(ALL_PARAMS)
    assert proc.stdout.splitlines()[-1].startswith("PASS")
