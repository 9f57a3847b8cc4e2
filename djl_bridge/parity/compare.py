"""Comparing one stage of the two sides: worst differences, ULP distance, the first element out of tolerance.

Modelled on ``torch.testing.assert_close``'s report: how many elements differ, the greatest absolute
and relative difference, and where the first mismatch is, so a reader can go straight to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from djl_bridge.parity.divergences import explain
from djl_bridge.parity.tolerances import Tolerance, tolerance_for

IDENTICAL, WITHIN, EXPLAINED, FAILED, UNEXPLAINED, BLOCKED = (
    "identical", "within tolerance", "explained", "FAILED", "UNEXPLAINED", "blocked")
PASSING = (IDENTICAL, WITHIN, EXPLAINED, BLOCKED)


@dataclass
class StageResult:
    """The verdict of one stage, with the numbers behind it."""

    stage: str
    status: str
    tolerance: str
    count: int = 0
    mismatched: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    max_ulp: int = 0
    first_bad: str | None = None
    cause: str | None = None
    note: str = ""
    details: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status in PASSING

    def as_dict(self) -> dict:
        return asdict(self)


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise distance in units in the last place (float32 or float64), NaNs equal to NaNs."""
    a, b = np.asarray(a), np.asarray(b)
    itype = {4: np.int32, 8: np.int64}[a.dtype.itemsize]
    low = int(np.iinfo(itype).min)
    # map the sign-magnitude float order onto integers (-0.0 and +0.0 both become 0); Python ints
    # for doubles, where the difference may not fit in 64 bits
    cast = (lambda x: x.astype(object)) if itype is np.int64 else (lambda x: x.astype(np.int64))
    ia, ib = cast(a.view(itype)), cast(b.view(itype))
    ia = np.where(ia < 0, low - ia, ia)
    ib = np.where(ib < 0, low - ib, ib)
    dist = np.abs(ia - ib)
    return np.where(np.isnan(a) & np.isnan(b), 0, dist).astype(np.float64 if itype is np.int64 else np.int64)


def _where(index: int, shape: tuple[int, ...], prefix: str = "") -> str:
    pos = np.unravel_index(index, shape) if shape else ()
    return f"{prefix}[{', '.join(map(str, pos))}]"


def array_diff(java: np.ndarray, python: np.ndarray, tol: Tolerance) -> dict:
    """Numbers of one array pair: count, mismatched, max_abs, max_rel, max_ulp, first_bad index."""
    java, python = np.asarray(java), np.asarray(python)
    if java.shape != python.shape:
        return {"count": int(java.size), "mismatched": int(max(java.size, python.size)),
                "first_bad": f"shape {java.shape} vs {python.shape}", "max_abs": float("inf"),
                "max_rel": float("inf"), "max_ulp": 0}
    if java.size == 0:
        return {"count": 0, "mismatched": 0, "first_bad": None, "max_abs": 0.0, "max_rel": 0.0, "max_ulp": 0}
    if java.dtype.kind != "f" or python.dtype.kind != "f" or tol.exact:
        same = java == python
        bad = np.flatnonzero(~same.reshape(-1))
        numeric = java.dtype.kind in "iuf" and python.dtype.kind in "iuf"
        max_abs = float(np.max(np.abs(java.astype(np.float64) - python.astype(np.float64)))) if numeric else \
            float(bad.size > 0)
        return {"count": int(java.size), "mismatched": int(bad.size), "max_abs": max_abs, "max_rel": 0.0,
                "max_ulp": 0, "first_bad": _where(int(bad[0]), java.shape) if bad.size else None}
    j64, p64 = java.astype(np.float64), python.astype(np.float64)
    abs_diff = np.abs(j64 - p64)
    rel = abs_diff / np.maximum(np.abs(j64), np.finfo(np.float64).tiny)
    ulp = ulp_distance(java, python.astype(java.dtype)) if java.dtype == python.dtype else np.zeros_like(abs_diff)
    differs = (abs_diff > 0) | (np.isnan(j64) != np.isnan(p64))
    ok = np.zeros(java.shape, dtype=bool)
    if tol.max_ulp is not None:
        ok |= ulp <= tol.max_ulp
    if tol.atol or tol.rtol:
        ok |= abs_diff <= tol.atol + tol.rtol * np.abs(j64)
    bad = np.flatnonzero(~ok.reshape(-1))
    return {"count": int(java.size), "mismatched": int(np.count_nonzero(differs)),
            "max_abs": float(np.nanmax(abs_diff)), "max_rel": float(np.nanmax(rel)),
            "max_ulp": int(min(ulp.max(), 2**62)), "first_bad": _where(int(bad[0]), java.shape) if bad.size else None}


def compare_stage(stage: str, java: np.ndarray | Mapping[str, np.ndarray] | Sequence,
                  python: np.ndarray | Mapping[str, np.ndarray] | Sequence, mode: str,
                  index_name: str = "") -> StageResult:
    """Compare one stage (an array, a name→array mapping, or a sequence) and give its verdict.

    ``index_name`` names the leading axis of a 1-d series (``step``, ``epoch``) in ``first_bad``.
    """
    tol = tolerance_for(stage, mode)
    result = StageResult(stage, IDENTICAL, tol.describe())
    if isinstance(java, Mapping):
        if list(java) != list(python):
            missing = sorted(set(java) ^ set(python))
            result.status, result.first_bad = FAILED, f"names differ: {missing[:4]}"
            return _attribute(result, mode)
        first = None
        for name in java:
            d = array_diff(java[name], python[name], tol)
            result.details.append({"name": name, **d})
            if d["first_bad"] and first is None:
                first = f"{name}{d['first_bad']}"
        _accumulate(result, result.details)
        result.first_bad = first
    else:
        ja, pa = _as_array(java), _as_array(python)
        d = array_diff(ja, pa, tol)
        _accumulate(result, [d])
        if d["first_bad"]:
            result.first_bad = f"{index_name} {int(d['first_bad'][1:-1]) + 1}" if index_name and ja.ndim == 1 \
                else d["first_bad"]
    if result.first_bad is not None:
        result.status = FAILED
    elif result.mismatched:
        result.status = WITHIN
    return _attribute(result, mode)


def _as_array(values) -> np.ndarray:
    if isinstance(values, (list, tuple)) and values and isinstance(values[0], str):
        return np.asarray(values, dtype=object)
    return np.asarray(values)


def _accumulate(result: StageResult, diffs: list[dict]) -> None:
    result.count = sum(d["count"] for d in diffs)
    result.mismatched = sum(d["mismatched"] for d in diffs)
    result.max_abs = max((d["max_abs"] for d in diffs), default=0.0)
    result.max_rel = max((d["max_rel"] for d in diffs), default=0.0)
    result.max_ulp = max((d["max_ulp"] for d in diffs), default=0)


def _attribute(result: StageResult, mode: str) -> StageResult:
    """Name the cause of any difference; a difference nobody explains fails the stage."""
    if result.status == IDENTICAL:
        return result
    known = explain(result.stage, mode)
    if known is not None:
        result.cause = known.name
        if result.status == FAILED and known.beyond_tolerance:
            result.status = EXPLAINED
    elif result.status == WITHIN:
        result.status = UNEXPLAINED
    return result


def blocked(stage: str, mode: str, cause: str, note: str) -> StageResult:
    """A stage that could not run because an earlier, explained divergence stopped one side."""
    return StageResult(stage, BLOCKED, tolerance_for(stage, mode).describe() if stage != "java.as_published"
                       else "runs", cause=cause, note=note)
