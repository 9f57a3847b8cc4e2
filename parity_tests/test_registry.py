"""The registry of causes: every entry's symptom is checked before it explains anything."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from djl_bridge.config import RunConfig
from djl_bridge.parity.compare import EXPLAINED, FAILED, compare_stage
from djl_bridge.parity.divergences import REGISTRY, by_name, failure_cause
from djl_bridge.parity.stages import SPECIAL
from djl_bridge.parity.stages import STAGES as TABLE
from djl_bridge.parity.verdicts import as_published, failure_stage
from djl_bridge.trace import Trace

ROOT = Path(__file__).resolve().parents[1]
STAGES = {*SPECIAL, *(s.name for s in TABLE)}


@pytest.mark.parametrize("entry", REGISTRY, ids=lambda d: d.name)
def test_every_entry_has_a_symptom_on_stages_a_run_produces_and_an_existing_test(entry):
    kinds = [entry.failure is not None, entry.state is not None, bool(entry.bounds)]
    assert sum(kinds) == 1, "exactly one kind of symptom"
    assert set(entry.bounds) <= STAGES, f"{entry.name} names stages no run produces"
    path, _, name = entry.shown_by.partition("::")
    tree = ast.parse((ROOT / path).read_text())
    assert name in {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}, entry.shown_by


def test_a_difference_beyond_the_bound_stays_failed():
    """java-math-exp accounts for one ULP of perplexity, not two."""
    x = 1.1854547108723763
    one, two = np.nextafter(x, 2.0), np.nextafter(np.nextafter(x, 2.0), 2.0)
    assert compare_stage("epochs.perplexity", [x], [one], "parity").cause == "java-math-exp"
    result = compare_stage("epochs.perplexity", [x], [two], "parity", "epoch")
    assert result.status == FAILED and result.first_bad == "epoch 1"


def test_a_bound_covers_only_its_own_stages():
    """One ULP in the final parameters is not java-math-exp's to explain."""
    w = np.float32([1.0])
    result = compare_stage("final.params", {"w": w}, {"w": np.nextafter(w, np.float32(2))}, "parity")
    assert result.status == FAILED and result.cause is None


def test_the_published_failure_matches_its_signature(data_file, java_trace):
    trace = java_trace(RunConfig(model="bilstm", hidden=8, max_tokens=1200, epochs=1), data_file, probe=True)
    failure = trace.published_failure
    assert failure_cause(*failure.root(), failure.stack_trace) is by_name("djl-bilstm-parameter-layout")
    stage = as_published(trace, "parity")
    assert stage.status == EXPLAINED and "must match the size of tensor b" in stage.note
    assert stage.remedy == "--layout-fix"


def test_a_java_failure_with_another_symptom_is_failed_with_its_real_message(manager):
    """Same exception class, another op and message: the layout entry must not explain it."""
    from djl_bridge.jvm import JavaError, java_call, jclass
    from djl_bridge.jvm.helpers import failure_of

    Shape = jclass("ai.djl.ndarray.types.Shape")
    with pytest.raises(JavaError) as info, java_call():
        manager.ones(Shape(2, 3)).matMul(manager.ones(Shape(2, 3)))
    failure = failure_of(info.value)
    assert failure.root()[0] == "ai.djl.engine.EngineException"
    assert failure_cause(*failure.root(), failure.stack_trace) is None
    stage = as_published(Trace("djl:pytorch", {}, published_failure=failure), "parity")
    assert stage.status == FAILED and stage.cause is None
    assert "no registered cause matches" in stage.note and "mat1 and mat2" in stage.note


def test_independent_init_is_compared_not_copied(data_file, java_trace, port_trace):
    """init.independent: each side draws its own weights from the seed; another seed on one side is caught."""
    cfg = RunConfig(model="gru", hidden=8, max_tokens=1200, batch_size=4, num_steps=5, epochs=1, offset=0)
    java = java_trace(cfg, data_file)
    same = port_trace(cfg, data_file, init=java.init)
    other = port_trace(replace(cfg, seed=1), data_file, init=java.init)
    assert compare_stage("init.independent", java.init_own, same.init_own, "parity").status == "identical"
    assert compare_stage("init.independent", java.init_own, other.init_own, "parity").status == FAILED
    # the copy itself is exact whatever the seed
    assert compare_stage("init.transfer", java.init, other.init, "parity").status == "identical"


def test_a_java_failure_during_training_is_a_failed_stage_and_exit_1(manager):
    from djl_bridge.jvm import JavaError, java_call, jclass
    from djl_bridge.jvm.helpers import failure_of
    from djl_bridge.parity.compare import not_compared
    from djl_bridge.parity.report import Report

    with pytest.raises(JavaError) as info, java_call():
        manager.ones(jclass("ai.djl.ndarray.types.Shape")(2, 3)).reshape(7)
    stage = failure_stage("java.run", failure_of(info.value), "parity", "runs")
    assert stage.stage == "java.run" and stage.status == FAILED and info.value.root_cause()[:60] in stage.note
    stages = (stage, not_compared("final.params", "parity", "the Java side failed", ""))
    report = Report("t", {}, "", stages, {})
    assert report.outcome == "FAIL" and report.exit_code == 1


def test_python_initialising_first_leaves_djl_generator_alone(data_file, jvm):
    """In one process both share libtorch's global generator (the bridge in-process, as the tests use it): the
    port's init must not consume DJL's draws."""
    from djl_bridge.jvm.helpers import _input_shape, _params, prepare
    from djl_bridge.jvm.runtime import jclass
    from djl_bridge.sides.port import run as run_port
    from djl_bridge.trace import Request

    cfg = RunConfig(model="lstm", hidden=8, max_tokens=1200, batch_size=4, num_steps=5, epochs=1, offset=0).resolved()
    setup = prepare(cfg, data_file)  # seeds DJL's engine
    try:
        python = run_port(Request(cfg, str(data_file)))  # builds torch.nn modules in this process
        Params = jclass("org.djlparity.bridge.Params")
        Params.initialize(setup.net, setup.manager, _input_shape(cfg))  # DJL's lazy init draws now
        java_own = _params(setup, [str(n) for n in Params.names(setup.net)])
    finally:
        setup.manager.close()
    assert compare_stage("init.independent", java_own, python.init_own, "parity").status == "identical"
