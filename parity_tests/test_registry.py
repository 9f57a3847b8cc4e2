"""The registry of causes: every entry's symptom is checked before it explains anything."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from djl_bridge.config import RunConfig
from djl_bridge.parity.compare import EXPLAINED, FAILED, compare_stage
from djl_bridge.parity.cross_engine import ENGINE_STAGES
from djl_bridge.parity.divergences import REGISTRY, by_name, failure_cause
from djl_bridge.parity.engine import RUN_STAGES
from djl_bridge.parity.tolerances import DATA_STAGES

ROOT = Path(__file__).resolve().parents[1]
STAGES = {"java.as_published", "java.run", *DATA_STAGES, *RUN_STAGES, *ENGINE_STAGES}


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


def test_the_published_failure_matches_its_signature(data_file, jvm):
    from djl_bridge.jvm.djl_side import probe_as_published
    from djl_bridge.parity.engine import _as_published_stage

    failure = probe_as_published(RunConfig(model="bilstm", hidden=8, max_tokens=1200), data_file)
    assert failure_cause(*failure.root(), failure.stack_trace) is by_name("djl-bilstm-parameter-layout")
    stage = _as_published_stage(failure, "parity")
    assert stage.status == EXPLAINED and "must match the size of tensor b" in stage.note


def test_a_java_failure_with_another_symptom_is_failed_with_its_real_message(manager):
    """Same exception class, another op and message: the layout entry must not explain it."""
    from djl_bridge.jvm import JavaError, java_call, jclass
    from djl_bridge.parity.engine import _as_published_stage

    Shape = jclass("ai.djl.ndarray.types.Shape")
    with pytest.raises(JavaError) as info, java_call():
        manager.ones(Shape(2, 3)).matMul(manager.ones(Shape(2, 3)))
    assert info.value.root()[0] == "ai.djl.engine.EngineException"
    assert failure_cause(*info.value.root(), info.value.stack_trace) is None
    stage = _as_published_stage(info.value, "parity")
    assert stage.status == FAILED and stage.cause is None
    assert "no registered cause matches" in stage.note and "mat1 and mat2" in stage.note


def test_independent_init_is_compared_not_copied(data_file, jvm):
    """init.independent: each side draws its own weights from the seed; another seed on one side is caught."""
    from djl_bridge.jvm.djl_side import java_data, java_run
    from djl_bridge.trace import python_data, python_run

    cfg = RunConfig(model="gru", hidden=8, max_tokens=1200, batch_size=4, num_steps=5, epochs=1, offset=0).resolved()
    setup, java = java_data(cfg, data_file)
    try:
        java_run(setup, java, cfg, None, 1)
    finally:
        setup.manager.close()
    same = python_run(python_data(cfg, data_file, 0), cfg, data_file, java.init_params, 1)
    other = python_run(python_data(cfg, data_file, 0), replace(cfg, seed=1), data_file, java.init_params, 1)
    assert compare_stage("init.independent", java.init_own, same.init_own, "parity").status == "identical"
    assert compare_stage("init.independent", java.init_own, other.init_own, "parity").status == FAILED
    # the copy itself is exact whatever the seed
    assert compare_stage("init.transfer", java.init_params, other.init_params, "parity").status == "identical"


def test_a_java_failure_during_training_is_a_failed_stage_and_exit_1(manager):
    from djl_bridge.jvm import JavaError, java_call, jclass
    from djl_bridge.parity.compare import not_compared
    from djl_bridge.parity.engine import _java_failure_stage
    from djl_bridge.parity.report import Report

    with pytest.raises(JavaError) as info, java_call():
        manager.ones(jclass("ai.djl.ndarray.types.Shape")(2, 3)).reshape(7)
    stage = _java_failure_stage(info.value, "parity")
    assert stage.stage == "java.run" and stage.status == FAILED and info.value.root_cause()[:60] in stage.note
    report = Report({}, "java", [stage, not_compared("final.params", "parity", "the Java side failed", "")], {})
    assert report.outcome == "FAIL" and report.exit_code == 1


def test_python_initialising_first_leaves_djl_generator_alone(data_file, jvm):
    """Both sides share libtorch's global generator: the port's init must not consume DJL's draws."""
    from djl_bridge.jvm.djl_side import java_data, java_run
    from djl_bridge.trace import python_data, python_run

    cfg = RunConfig(model="lstm", hidden=8, max_tokens=1200, batch_size=4, num_steps=5, epochs=1, offset=0).resolved()
    setup, java = java_data(cfg, data_file)  # seeds DJL's engine
    python = python_run(python_data(cfg, data_file, 0), cfg, data_file, None, 1)  # builds torch.nn modules
    try:
        java_run(setup, java, cfg, python.init_params, 1)  # DJL's lazy init draws now
    finally:
        setup.manager.close()
    assert compare_stage("init.independent", java.init_own, python.init_own, "parity").status == "identical"
