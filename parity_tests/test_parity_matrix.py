"""The parity matrix: both sides from one start, every stage's verdict, for small fast configs."""

from __future__ import annotations

import pytest

from djl_bridge.config import RunConfig
from djl_bridge.flows.compare import compare
from djl_bridge.parity.compare import IDENTICAL
from djl_bridge.parity.stages import STAGES

RUN_STAGES = {s.name for s in STAGES}

SMALL = dict(hidden=16, max_tokens=1500, batch_size=8, num_steps=35, epochs=2, lr=1)
MATRIX = [
    dict(model="rnn", layers=1),
    dict(model="rnn", layers=2),
    dict(model="gru", layers=1),
    dict(model="gru", layers=2),
    dict(model="lstm", layers=1),
    dict(model="deep-lstm", layers=2, lr=2),
    dict(model="bilstm", layers=1, layout_fix=True),
    dict(model="bilstm", layers=2, layout_fix=True),
    dict(model="rnn-scratch", layers=1),
    dict(model="gru-scratch", layers=1),
    dict(model="lstm-scratch", layers=1),
    dict(model="birnn-hand", layers=1),
    dict(model="birnn-hand", layers=1, bias=True, learn_boundary=True),
]


def _id(params: dict) -> str:
    options = (("fix", "layout_fix"), ("bias", "bias"), ("learned", "learn_boundary"))
    flags = [flag for flag, key in options if params.get(key)]
    return "-".join([f"{params['model']}-{params['layers']}L", *flags])


@pytest.mark.parametrize("params", MATRIX, ids=_id)
@pytest.mark.parametrize("init", ["java", "python"])
def test_every_stage_is_bit_identical_in_parity_mode(params, init, data_file):
    cfg = RunConfig(**{**SMALL, **params, "offset": 3})
    report = compare(cfg, data_file, "pytorch", init=init, full_steps=2)
    verdicts = {s.stage: s.status for s in report.stages}
    assert set(verdicts) >= RUN_STAGES
    not_identical = {k: v for k, v in verdicts.items() if v != IDENTICAL and k != "java.as_published"}
    detail = [(s.stage, s.status, s.first_bad, s.max_ulp, s.max_abs) for s in report.stages if s.status != IDENTICAL]
    assert not not_identical, (report.verdict(), detail)
    assert report.outcome == "PASS"
    losses = report.series["step_loss"]
    assert len(losses["java"]) == 2 * 5 and losses["java"] == losses["python"]  # every step of 2 epochs


def test_notebook_config_is_bit_identical_for_a_few_epochs(data_file):
    cfg = RunConfig(model="bilstm", epochs=2, layout_fix=True)  # the notebook cell, fewer epochs
    report = compare(cfg, data_file, "pytorch", init="java")
    assert report.config["hidden"] == 256 and report.config["layers"] == 2 and report.config["batch_size"] == 32
    statuses = {s.stage: s.status for s in report.stages}
    assert statuses.pop("java.as_published") == "explained"
    assert set(statuses.values()) == {IDENTICAL}, report.verdict()
    ppl = report.series["perplexity"]
    assert ppl["java"] == ppl["python"] and ppl["java"][-1] < ppl["java"][0]


def test_fast_mode_is_within_tolerance_and_explained(data_file):
    cfg = RunConfig(model="lstm", hidden=16, max_tokens=1500, batch_size=8, epochs=2, offset=0, mode="fast")
    report = compare(cfg, data_file, "pytorch", init="java")
    by_stage = {s.stage: s for s in report.stages}
    assert report.outcome == "PASS", report.verdict()
    for name in ("lines", "vocab", "corpus", "batches.x", "init.independent", "init.transfer"):
        assert by_stage[name].status == IDENTICAL
    differing = [s for s in report.stages if s.status != IDENTICAL]
    assert differing, "fast mode's fused ops are expected to round differently somewhere"
    assert all(s.cause == "fast-mode-ops" for s in differing)
