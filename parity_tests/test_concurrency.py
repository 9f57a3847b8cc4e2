"""compare --concurrent: both sides at once (two processes), each with its own thread budget, agreeing as before."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from djl_bridge.concurrency import at_once, thread_budget
from djl_bridge.config import RunConfig
from djl_bridge.parity.compare import IDENTICAL


def test_thread_budget_is_per_thread():
    if torch.get_num_threads() < 2:
        pytest.skip("one CPU thread here: nothing to split")
    seen = {}

    def side() -> None:
        with thread_budget(1):
            seen["inside"] = torch.get_num_threads()
            seen["main while inside"] = main_threads

    main_threads = torch.get_num_threads()
    t = threading.Thread(target=side)
    t.start()
    t.join()
    assert seen["inside"] == 1 and torch.get_num_threads() == main_threads == seen["main while inside"]


def test_at_once_runs_the_tasks_together_and_raises_the_first_failure_after_all_ended():
    started, ended = [], []

    def slow(name: str, fail: bool = False):
        def task() -> str:
            started.append((name, time.perf_counter()))
            time.sleep(0.3)
            ended.append(name)
            if fail:
                raise ValueError(f"{name} broke")
            return name

        return task

    t0 = time.perf_counter()
    assert at_once(slow("a"), slow("b")) == ["a", "b"]
    assert time.perf_counter() - t0 < 0.55, "the two tasks ran one after the other"
    with pytest.raises(ValueError, match="c broke"):
        at_once(slow("c", fail=True), slow("d"))
    assert "d" in ended, "the other task ran to its end before the failure was raised"


@pytest.mark.parametrize("init", ["java", "python"])
def test_concurrent_compare_is_bit_identical_and_reports_wall_times(data_file, init):
    from djl_bridge.flows.compare import compare

    cfg = RunConfig(model="lstm", hidden=16, max_tokens=1500, batch_size=8, epochs=2, offset=0)
    report = compare(cfg, data_file, "pytorch", init=init, concurrent=True)
    assert report.outcome == "PASS", report.verdict()
    assert {s.status for s in report.stages} == {IDENTICAL}, report.verdict()
    assert "at once" in report.environment["wall time, both sides and the envelope"]
