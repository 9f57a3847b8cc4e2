"""Two engines' own initial weights from one seed: other numbers, the same distribution?

DJL draws every WEIGHT from N(0, 0.01) and sets every BIAS to zero; MXNet's generator and
libtorch's give other numbers from the same seed. What can be checked is the distribution: each
side's drawn weights (all of them pooled) against N(0, 0.01), by three tests, each at a false-alarm
rate of :data:`ALPHA`:

- the mean: z = mean / (sigma / sqrt(n));
- the variance: z = (s² / sigma² - 1) · sqrt(n / 2) (the chi-square statistic, normal for large n);
- the shape: the Kolmogorov-Smirnov distance to the normal CDF, against its critical value
  sqrt(-ln(ALPHA / 2) / (2n)).

Six tests in all (three per side): by the union bound, a correct pair of draws fails with
probability at most 6·ALPHA = 0.6 %. The biases must be zero on both sides.
"""

from __future__ import annotations

import math

import numpy as np

from djl_bridge.parity.compare import FAILED, WITHIN, StageResult
from djl_bridge.trace import Arrays

SIGMA = 0.01
ALPHA = 1e-3
#: the two-sided normal quantile of ALPHA
Z_CRIT = 3.2905


def _is_bias(name: str) -> bool:
    return name.endswith(("BIAS", "_bias")) or name.startswith("b_")


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    """The standard normal CDF (Abramowitz and Stegun 7.1.26 for erf: error below 1.5e-7, far under
    the KS critical values here)."""
    z = np.abs(x) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-z * z)
    return 0.5 * (1.0 + np.sign(x) * erf)


def statistics(weights: np.ndarray) -> dict[str, float]:
    """The three statistics of drawn weights against N(0, SIGMA), with the KS critical value."""
    w = np.sort(np.asarray(weights, np.float64).ravel())
    n = w.size
    cdf = _normal_cdf(w / SIGMA)
    ks = float(max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n)))
    return {
        "n": n,
        "mean_z": float(w.mean() / (SIGMA / math.sqrt(n))),
        "var_z": float((w.var() / SIGMA**2 - 1.0) * math.sqrt(n / 2.0)),
        "ks": ks,
        "ks_crit": math.sqrt(-math.log(ALPHA / 2.0) / (2.0 * n)),
    }


def _failures(side: str, s: dict[str, float]) -> list[str]:
    out = []
    if abs(s["mean_z"]) > Z_CRIT:
        out.append(f"{side}: mean z {s['mean_z']:.2f}")
    if abs(s["var_z"]) > Z_CRIT:
        out.append(f"{side}: variance z {s['var_z']:.2f}")
    if s["ks"] > s["ks_crit"]:
        out.append(f"{side}: KS {s['ks']:.3g} > {s['ks_crit']:.3g}")
    return out


def same_distribution(stage: str, java: Arrays, python: Arrays, cause: str) -> StageResult:
    """Both sides' draws from N(0, SIGMA) with zero biases: within the cause, or FAILED naming the test."""
    if list(java) != list(python) or any(np.shape(java[k]) != np.shape(python[k]) for k in java):
        return StageResult(stage, FAILED, "N(0, 0.01)", first_bad="the two models' parameters differ in name or shape")
    bad = [
        f"{side}: bias {k} is not zero"
        for side, arrays in (("java", java), ("python", python))
        for k, a in arrays.items()
        if _is_bias(k) and np.any(a)
    ]
    stats = {}
    for side, arrays in (("java", java), ("python", python)):
        drawn = [np.ravel(a) for k, a in arrays.items() if not _is_bias(k)]
        stats[side] = statistics(np.concatenate(drawn)) if drawn else None
        bad += _failures(side, stats[side]) if stats[side] else []
    n = sum(np.size(a) for a in java.values())
    j = stats["java"] or {}
    note = (
        f"both draws tested against N(0, 0.01) (mean, variance, KS; false-alarm rate ≤ {6 * ALPHA:.1%}): "
        f"java mean z {j.get('mean_z', 0):.2f}, variance z {j.get('var_z', 0):.2f}, KS {j.get('ks', 0):.3g}"
    )
    diff = float(max(np.max(np.abs(np.asarray(java[k], np.float64) - python[k]), initial=0.0) for k in java))
    if bad:
        return StageResult(
            stage, FAILED, "N(0, 0.01) (mean, variance, KS)", n, n, diff, first_bad="; ".join(bad), note=note
        )
    return StageResult(stage, WITHIN, "N(0, 0.01) (mean, variance, KS)", n, n, diff, cause=cause, note=note)
