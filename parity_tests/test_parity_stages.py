"""The comparator and the engine's data stages: verdicts must fail on real differences."""

from __future__ import annotations

import numpy as np
import pytest

from djl_bridge.config import RunConfig
from djl_bridge.parity.compare import (
    EXPLAINED,
    FAILED,
    IDENTICAL,
    NOT_COMPARED,
    StageResult,
    compare_stage,
    not_compared,
    ulp_distance,
)
from djl_bridge.parity.report import Report


def test_ulp_distance_counts_representable_floats():
    a = np.float32([1.0, -0.0, -1e-45, 3.0])
    b = np.array([np.nextafter(np.float32(1.0), np.float32(2.0)), 0.0, 1e-45, 3.0], dtype=np.float32)
    assert ulp_distance(a, b).tolist() == [1, 0, 2, 0]


def test_one_ulp_fails_parity_and_names_the_first_element():
    java = np.zeros((2, 3), np.float32)
    python = java.copy()
    python[1, 2] = np.nextafter(np.float32(0), np.float32(1))
    result = compare_stage("step1.logits", java, python, "parity")
    assert result.status == FAILED and result.first_bad == "[1, 2]" and result.max_ulp == 1
    assert result.mismatched == 1


def test_named_arrays_report_the_parameter_first_out_of_tolerance():
    java = {"w": np.ones(3, np.float32), "b": np.ones(2, np.float32)}
    python = {"w": np.ones(3, np.float32), "b": np.float32([1, 1.5])}
    result = compare_stage("step1.grads", java, python, "parity")
    assert result.status == FAILED and result.first_bad == "b[1]" and result.max_abs == 0.5


def test_mixed_dtypes_are_compared_in_the_wider_type_with_its_ulps():
    one = np.float32([1.0])
    next64 = np.float64([np.nextafter(1.0, 2.0)])
    result = compare_stage("step1.loss", one, next64, "parity")
    assert result.status == FAILED and result.max_ulp == 1 and result.max_abs == next64[0] - 1.0
    assert compare_stage("step1.loss", one, np.float64([1.0]), "parity").status == IDENTICAL
    # a float32 rounding seen from float64 is 2**29 float64 ULPs, not 0
    f32_next = np.float32([np.nextafter(np.float32(1), np.float32(2))])
    assert compare_stage("step1.loss", f32_next, np.float64([1.0]), "parity").max_ulp == 2**29


@pytest.mark.parametrize(
    "java,python,expected",
    [
        (np.zeros((2, 3), np.float32), np.zeros((3, 2), np.float32), "shape (2, 3) vs (3, 2)"),
        ([1.0, 2.0], [1.0, 2.0, 3.0], "length 2 vs 3"),
    ],
)
def test_different_shapes_or_lengths_fail_and_say_both(java, python, expected):
    result = compare_stage("epochs.perplexity", java, python, "parity", "epoch")
    assert result.status == FAILED and result.first_bad == expected


def test_named_arrays_of_different_shapes_fail_naming_the_parameter():
    java = {"w": np.ones((2, 2), np.float32)}
    result = compare_stage("final.params", java, {"w": np.ones((2, 3), np.float32)}, "parity")
    assert result.status == FAILED and result.first_bad == "w: shape (2, 2) vs (2, 3)"


def test_signed_zeros_are_identical_values_and_counted():
    result = compare_stage(
        "step1.grads", {"b": np.float32([0.0, -0.0, 1.0])}, {"b": np.float32([-0.0, -0.0, 1.0])}, "parity"
    )
    assert result.status == IDENTICAL and result.max_ulp == 0 and "1 element(s) are -0.0" in result.note


def test_nan_matches_nan_but_not_a_number():
    nan = np.float32([np.nan, 1.0])
    assert compare_stage("step1.logits", nan, nan.copy(), "parity").status == IDENTICAL
    result = compare_stage("step1.logits", nan, np.float32([0.5, 1.0]), "parity")
    assert result.status == FAILED and result.first_bad == "[0]" and result.max_abs == float("inf")
    assert ulp_distance(np.float32([np.nan]), np.float32([0.5]))[0] == 2**31


def _stage(status: str) -> StageResult:
    return StageResult("x", status, "exact")


@pytest.mark.parametrize(
    "statuses,outcome,code",
    [
        ([IDENTICAL, "within tolerance", EXPLAINED], "PASS", 0),
        ([IDENTICAL, NOT_COMPARED], "INCOMPLETE", 4),
        ([FAILED, NOT_COMPARED], "FAIL", 1),
        ([], "INCOMPLETE", 4),
    ],
)
def test_outcome_is_pass_only_when_every_stage_was_compared(statuses, outcome, code):
    report = Report("t", {}, "", tuple(_stage(s) for s in statuses), {})
    assert report.outcome == outcome and report.exit_code == code
    assert report.verdict().startswith(outcome) and report.as_json()["outcome"] == outcome


def test_incomplete_headline_names_the_stages_why_and_the_flag():
    stages = [_stage(IDENTICAL), not_compared("step1.loss", "parity", "Java cannot train it", "--layout-fix")]
    verdict = Report("t", {}, "", tuple(stages), {}).verdict()
    assert verdict == (
        "INCOMPLETE: 1 of 2 stages not compared (step1.loss): Java cannot train it; to compare them: --layout-fix"
    )


def test_series_report_one_based_epoch():
    result = compare_stage("epochs.perplexity", [9.0, 5.0, 3.0], [9.0, 5.0, 3.25], "parity", "epoch")
    assert result.first_bad == "epoch 3"


def test_difference_within_fast_tolerance_is_attributed_to_its_cause():
    java = np.float32([10.0])
    python = np.float32([10.000001])
    assert compare_stage("step1.loss", java, python, "fast").cause == "fast-mode-ops"
    assert compare_stage("step1.loss", java, java, "fast").status == IDENTICAL
    assert compare_stage("step1.loss", java, np.float32([11.0]), "fast").status == FAILED


def test_a_scale_cap_follows_the_magnitude_of_the_stage():
    """engine-rounding caps step-1 logits at a share of their largest value: the same |Δ| is rounding on
    logits of size 4 and a difference on logits of size 0.04 (the models' initialisers set the scale)."""
    from djl_bridge.parity.divergences import bound_for
    from djl_bridge.parity.tolerances import Tolerance

    cap = bound_for("step1.logits", "engine:mxnet")[1]
    for scale, passes in ((4.0, True), (0.04, False)):
        ref = np.float32([scale, -scale / 2, 1e-3])
        other = ref + np.float32([0, 0, 7e-6])
        assert (
            compare_stage("step1.logits", ref, other, "engine:mxnet", tol=Tolerance(bound=cap)).status != FAILED
        ) is passes, scale


def test_an_envelope_series_is_the_largest_drift_so_far():
    """Two runs that cross at one step leave a dip in their drift there; the envelope keeps the drift so far."""
    from djl_bridge.parity.envelope import measure
    from djl_bridge.trace import Trace

    ref = Trace("port", {}, losses=[3.0, 2.0, 2.5, 2.0])
    other = Trace("port", {}, losses=[3.0, 2.1, 2.5, 1.7])
    assert np.allclose(measure(ref, {"nudged": other}, 0.0).losses, [0.0, 0.1, 0.1, 0.3])


def test_a_small_parameters_squared_gradients_are_judged_at_the_steps_gradient_scale():
    """A bias whose gradient is a cancelling sum rounds at the scale of the step's largest gradient: across
    engines its squared sum may move by 2 sqrt(sq) rows ULP(norm), not only by rows ULP of its own value."""
    from djl_bridge.parity.envelope import Envelope
    from djl_bridge.parity.judges import Context, enveloped
    from djl_bridge.parity.stages import stages

    stage = next(s for s in stages("steps") if s.name == "steps.grad_sq")
    ref = np.array([[1.0, 1.5e-4]])  # a weight's and a bias's squared gradients at one step
    env = Envelope(("x",), {}, np.zeros(1), np.zeros(1), np.zeros((1, 2)), np.zeros(0), 0.0, 0.0)
    ctx = Context("engine:mxnet", RunConfig(batch_size=32, num_steps=20), env, ("w", "b"))
    within = enveloped(stage, ref, ref + [[0, 5e-8]], ctx)
    beyond = enveloped(stage, ref, ref + [[0, 5e-5]], ctx)
    assert within.status != FAILED
    assert beyond.status == FAILED and beyond.first_bad == "step 1, parameter b"


def test_a_difference_no_cause_explains_fails():
    result = compare_stage("vocab", ["a", "b"], ["a", "c"], "fast")
    assert result.status == FAILED and result.cause is None


def test_data_stages_identical(data_file, java_trace):
    """Java draws its offset from an unseeded java.util.Random; given it, the Python side matches it."""
    from djl_bridge.sides.port import port_data

    cfg = RunConfig(model="lstm", max_tokens=3000, batch_size=4, num_steps=7, epochs=1).resolved()
    java = java_trace(cfg, data_file, full_steps=0).data
    assert 0 <= java.offset < 7
    python = port_data(cfg, data_file, java.offset)
    assert java.lines == python.lines and java.tokens == python.tokens
    assert java.vocab == python.vocab and java.corpus == python.corpus
    np.testing.assert_array_equal(java.batches_x, python.batches_x)
    np.testing.assert_array_equal(java.batches_y, python.batches_y)
    other = port_data(cfg, data_file, (java.offset + 1) % 7)
    assert not np.array_equal(other.batches_x, java.batches_x)


def test_speed_is_reported_not_compared(data_file, tmp_path):
    from djl_bridge.flows.compare import compare
    from djl_bridge.parity.render import write_report

    cfg = RunConfig(model="rnn", hidden=8, max_tokens=1200, batch_size=8, epochs=1, offset=1)
    report = compare(cfg, data_file, "pytorch")
    assert not any("speed" in s.stage for s in report.stages)
    assert "java: tokens/s (last epoch)" in report.environment and "java: worker_start_s" in report.environment
    assert report.outcome == "PASS", report.verdict()
    write_report(report, tmp_path / "r")
    write_report(report, tmp_path / "r")  # an earlier run's folder (its marker) is replaced whole
    names = ["report.html", "report.json", "report.md"]
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [".djl-parity-run", *names]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"], "no staging or replaced folder left behind"
    html = (tmp_path / "r" / "report.html").read_text()
    assert "data:image/png;base64," in html and "PASS" in html


def test_java_and_c_exp_differ_in_the_last_bit(jvm):
    """The cause behind `java-math-exp`: the argument of epoch 256 of a 500-epoch notebook run."""
    import math

    from djl_bridge.jvm import jclass

    x = float(np.float32(0.17012642323970795))  # the float32 mean loss, bit-identical on both sides
    java = float(jclass("java.lang.Math").exp(x))
    assert java == 1.1854547108723765 and math.exp(x) == 1.1854547108723763
    assert ulp_distance(np.float64([java]), np.float64([math.exp(x)]))[0] == 1
    one_ulp = compare_stage("epochs.perplexity", [java], [math.exp(x)], "parity", "epoch")
    assert one_ulp.status == "within tolerance" and one_ulp.cause == "java-math-exp"
    two_ulp = compare_stage("epochs.perplexity", [java], [float(np.nextafter(math.exp(x), 0.0))], "parity")
    assert two_ulp.status == FAILED


def _draws(rng, sample) -> dict[str, np.ndarray]:
    """A small LSTM's parameters as two sides hold them: weights from ``sample(shape)``, biases zero."""
    shapes = {"l_0_i2h_WEIGHT": (32, 29), "l_0_h2h_WEIGHT": (32, 8), "l_0_i2h_BIAS": (32,), "weight": (29, 8)}
    return {k: (np.zeros(s, np.float32) if k.endswith("BIAS") else sample(rng, s).astype(np.float32))
            for k, s in shapes.items()}  # fmt: skip


def test_other_distributions_fail_the_mxnet_random_init_check():
    """init.independent across engines: two honest N(0, 0.01) draws pass (a false alarm at most 0.6 % of
    the time, here over 200 pairs of draws), and weights from another distribution fail, naming the test."""
    from djl_bridge.parity.distribution import same_distribution

    rng = np.random.default_rng(7)
    normal = lambda r, s: r.normal(0.0, 0.01, s)  # noqa: E731
    honest = [same_distribution("init.independent", _draws(rng, normal), _draws(rng, normal), "mxnet-random-init")
              for _ in range(200)]  # fmt: skip
    assert sum(r.status == "FAILED" for r in honest) <= 3  # 0.6 % of 200 is 1.2; binomial tail beyond 3 < 3 %
    assert honest[0].status == "within tolerance" and honest[0].cause == "mxnet-random-init"
    for sample, test in [
        (lambda r, s: r.normal(0.0, 0.02, s), "variance z"),  # another scale
        (lambda r, s: r.normal(0.002, 0.01, s), "mean z"),  # a shifted mean
        (lambda r, s: r.uniform(-0.01 * 3**0.5, 0.01 * 3**0.5, s), "KS"),  # the same mean and variance, uniform
    ]:
        r = same_distribution("init.independent", _draws(rng, sample), _draws(rng, normal), "mxnet-random-init")
        assert r.status == "FAILED" and r.first_bad.startswith(f"java: {test}"), (test, r.first_bad)
    bias = _draws(rng, normal) | {"l_0_i2h_BIAS": np.full(32, 0.01, np.float32)}
    r = same_distribution("init.independent", _draws(rng, normal), bias, "mxnet-random-init")
    assert r.status == "FAILED" and "python: bias l_0_i2h_BIAS is not zero" in r.first_bad
