"""compare --concurrent: the two sides train at once, each with its own thread budget, and agree as before."""

from __future__ import annotations

import threading

import pytest
import torch

from djl_bridge.concurrency import SidePair, Stopped, thread_budget
from djl_bridge.config import RunConfig
from djl_bridge.parity.compare import IDENTICAL


def test_jpype_releases_the_gil_during_java_calls(jvm):
    from djl_bridge.bench import jpype_releases_gil

    assert jpype_releases_gil()


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


def test_a_failing_side_stops_the_other_at_its_next_check():
    pair = SidePair(concurrent=True)
    epochs_done = []

    def first(ready) -> None:
        ready()
        raise ValueError("first side broke")

    def second() -> None:
        for epoch in range(1000):
            pair.check()
            epochs_done.append(epoch)
            threading.Event().wait(0.01)

    with pytest.raises(ValueError, match="first side broke"):
        pair.run(first, second)
    assert len(epochs_done) < 1000


def test_the_second_side_waits_for_the_first_sides_weights():
    pair = SidePair(concurrent=True)
    order = []

    def first(ready) -> None:
        threading.Event().wait(0.1)
        order.append("weights")
        ready()
        order.append("first trains")

    timing = pair.run(first, lambda: order.append("second trains"))
    assert order[0] == "weights" and set(order) == {"weights", "first trains", "second trains"}
    assert timing.concurrent and timing.whole_s >= max(timing.first_s, timing.second_s) * 0.99
    with pytest.raises(Stopped):
        pair._stop.set()
        pair.check()


@pytest.mark.parametrize("init", ["java", "python"])
def test_concurrent_compare_is_bit_identical_and_reports_wall_times(data_file, jvm, init):
    from djl_bridge.parity.engine import compare

    cfg = RunConfig(model="lstm", hidden=16, max_tokens=1500, batch_size=8, epochs=2, offset=0)
    report = compare(cfg, data_file, init=init, steps=4, concurrent=True)
    assert report.outcome == "PASS", report.verdict()
    assert {s.status for s in report.stages} == {IDENTICAL}, report.verdict()
    assert report.environment["sides"].startswith("at once")
    assert report.environment["wall time"].startswith("java ")
