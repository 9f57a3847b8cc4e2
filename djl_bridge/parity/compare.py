"""Comparing one stage of the two sides: worst differences, ULP distance, the first element out of tolerance.

Modelled on ``torch.testing.assert_close``'s report: how many elements differ, the greatest absolute
and relative difference, and where the first mismatch is, so a reader can go straight to it.

What "identical" means for floats: equal as IEEE values, so ``-0.0`` and ``+0.0`` are identical
(0 ULP apart; the stage's ``note`` counts such pairs), and a NaN is identical to a NaN whatever its
payload. A NaN or infinity against anything else is a difference of infinite size. Two arrays of
different float types are compared in the wider type, and their ULP distance is counted there.
Arrays or series of different shapes or lengths are a FAILED stage that states both shapes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from djl_bridge.parity.tolerances import Tolerance, tolerance_for

IDENTICAL, WITHIN, EXPLAINED, FAILED, NOT_COMPARED = (
    "identical",
    "within tolerance",
    "explained",
    "FAILED",
    "not compared",
)
PASSING = (IDENTICAL, WITHIN, EXPLAINED)


@dataclass(frozen=True)
class StageResult:
    """The verdict of one stage, with the numbers behind it (built once by a judge, never changed)."""

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
    #: for a stage that was not compared: the option that would compare it
    remedy: str = ""
    details: tuple[dict, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status in PASSING

    def as_dict(self) -> dict:
        return asdict(self)


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise distance in units in the last place of the wider float type of ``a`` and ``b``.

    ``-0.0`` and ``+0.0`` are 0 apart, NaN and NaN are 0 apart; NaN against a number is the
    largest distance of the type.
    """
    a, b = np.asarray(a), np.asarray(b)
    wide = np.result_type(a.dtype, b.dtype, np.float32)
    if wide not in (np.float32, np.float64):
        raise TypeError(f"ULP distance needs float32 or float64, got {a.dtype} and {b.dtype}")
    a, b = a.astype(wide), b.astype(wide)
    itype = np.int32 if wide == np.float32 else np.int64
    low = int(np.iinfo(itype).min)
    # map the sign-magnitude float order onto integers (-0.0 and +0.0 both become 0); Python ints
    # for doubles, where the difference may not fit in 64 bits
    cast = (lambda x: x.astype(object)) if itype is np.int64 else (lambda x: x.astype(np.int64))
    ia, ib = cast(a.view(itype)), cast(b.view(itype))
    ia = np.where(ia < 0, low - ia, ia)
    ib = np.where(ib < 0, low - ib, ib)
    dist = np.abs(ia - ib)
    one_nan = np.isnan(a) != np.isnan(b)
    dist = np.where(np.isnan(a) & np.isnan(b), 0, np.where(one_nan, -low, dist))
    return dist.astype(np.float64 if itype is np.int64 else np.int64)


def _where(index: int, shape: tuple[int, ...]) -> str:
    pos = np.unravel_index(index, shape) if shape else ()
    return f"[{', '.join(map(str, pos))}]"


def _accepts(tol: Tolerance, abs_diff: np.ndarray, ulp: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Element-wise: is the difference inside the tolerance's bound?"""
    ok = abs_diff == 0
    bound = tol.bound
    if bound is not None:
        if bound.max_ulp is not None:
            ok |= ulp <= bound.max_ulp
        if np.any(bound.atol) or bound.rtol or bound.stol:  # atol may be one bound per element (a series')
            scale = bound.stol * float(np.max(np.abs(ref), initial=0.0)) if bound.stol else 0.0
            ok |= abs_diff <= bound.atol + bound.rtol * np.abs(ref) + scale
    return ok


_EMPTY = {
    "count": 0,
    "mismatched": 0,
    "first_bad": None,
    "max_abs": 0.0,
    "max_rel": 0.0,
    "max_ulp": 0,
    "first_index": None,
    "signed_zeros": 0,
}


def array_diff(java: np.ndarray, python: np.ndarray, tol: Tolerance) -> dict:
    """Numbers of one array pair: count, mismatched, max_abs, max_rel, max_ulp, first_bad index, shape note."""
    java, python = np.asarray(java), np.asarray(python)
    if java.shape != python.shape:
        n = int(max(java.size, python.size))
        shapes = f"shape {java.shape} vs {python.shape}"
        return {
            **_EMPTY,
            "count": n,
            "mismatched": n,
            "first_bad": shapes,
            "max_abs": float("inf"),
            "max_rel": float("inf"),
        }
    if java.size == 0:
        return dict(_EMPTY)
    floats = java.dtype.kind == "f" and python.dtype.kind == "f"
    return _exact_diff(java, python, floats) if not floats or tol.exact else _float_diff(java, python, tol)


def _exact_diff(java: np.ndarray, python: np.ndarray, floats: bool) -> dict:
    """Equal or not, element by element (NaN equals NaN); the largest difference where both are numbers."""
    same = (java == python) | (floats and (np.isnan(java) & np.isnan(python)))
    bad = np.flatnonzero(~np.asarray(same).reshape(-1))
    numeric = java.dtype.kind in "iuf" and python.dtype.kind in "iuf"
    max_abs = (
        float(np.max(np.abs(java.astype(np.float64) - python.astype(np.float64))[~same]))
        if numeric and bad.size
        else float(bad.size > 0)
    )
    first = int(bad[0]) if bad.size else None
    return {
        **_EMPTY,
        "count": int(java.size),
        "mismatched": int(bad.size),
        "max_abs": max_abs,
        "first_index": first,
        "first_bad": _where(first, java.shape) if first is not None else None,
    }


def _float_diff(java: np.ndarray, python: np.ndarray, tol: Tolerance) -> dict:
    """Floats compared in the wider type: |Δ|, relative, ULP, and the first element outside ``tol``."""
    wide = np.result_type(java.dtype, python.dtype)
    jw, pw = java.astype(wide), python.astype(wide)
    both_nan = np.isnan(jw) & np.isnan(pw)
    with np.errstate(invalid="ignore", over="ignore"):
        abs_diff = np.where(both_nan | (jw == pw), 0.0, np.abs(jw.astype(np.float64) - pw.astype(np.float64)))
    abs_diff = np.where(np.isnan(abs_diff), np.inf, abs_diff)
    rel = abs_diff / np.maximum(np.abs(jw.astype(np.float64)), np.finfo(np.float64).tiny)
    ulp = ulp_distance(jw, pw)
    ok = _accepts(tol, abs_diff, ulp, jw.astype(np.float64))
    bad = np.flatnonzero(~ok.reshape(-1))
    first = int(bad[0]) if bad.size else None
    return {
        "count": int(java.size),
        "mismatched": int(np.count_nonzero(abs_diff > 0)),
        "max_abs": float(abs_diff.max()),
        "max_rel": float(np.nan_to_num(rel, nan=np.inf).max()),
        "max_ulp": int(min(ulp.max(), 2**62)),
        "first_index": first,
        "first_bad": _where(first, java.shape) if first is not None else None,
        "signed_zeros": int(np.count_nonzero((jw == 0) & (pw == 0) & (np.signbit(jw) != np.signbit(pw)))),
    }


def compare_stage(
    stage: str,
    java: np.ndarray | Mapping[str, np.ndarray] | Sequence,
    python: np.ndarray | Mapping[str, np.ndarray] | Sequence,
    mode: str,
    index_name: str = "",
    tol: Tolerance | None = None,
    columns: Sequence[str] = (),
    note: str = "",
    tolerance: str | None = None,
) -> StageResult:
    """Compare one stage (an array, a name→array mapping, or a sequence) and give its verdict.

    ``index_name`` names the leading axis of a series (``step``, ``epoch``) in ``first_bad``;
    ``columns`` names a 2-d series' columns (the parameters of a per-step, per-parameter series).
    ``tol`` overrides the policy's tolerance; ``note`` and ``tolerance`` (its description) are shown as given.
    """
    tol = tol or tolerance_for(stage, mode)
    shown = tolerance or tol.describe()
    if isinstance(java, Mapping):
        if list(java) != list(python):
            missing = sorted(set(java) ^ set(python))
            return StageResult(stage, FAILED, shown, first_bad=f"names differ: {missing[:4]}", note=note)
        diffs = [{"name": name, **array_diff(java[name], python[name], tol)} for name in java]
        first = next(
            (
                f"{d['name']}{d['first_bad']}" if d["first_index"] is not None else f"{d['name']}: {d['first_bad']}"
                for d in diffs
                if d["first_bad"]
            ),
            None,
        )
        details = tuple(diffs)
    else:
        ja, pa = _as_array(java), _as_array(python)
        d = array_diff(ja, pa, tol)
        diffs, details = [d], ()
        first = _series_position(d, ja, pa, index_name, columns)
    zeros = sum(d["signed_zeros"] for d in diffs)
    note = note or (f"{zeros} element(s) are -0.0 on one side and +0.0 on the other (equal values)" if zeros else "")
    mismatched = sum(d["mismatched"] for d in diffs)
    status = FAILED if first is not None else WITHIN if mismatched else IDENTICAL
    return StageResult(
        stage,
        status,
        shown,
        count=sum(d["count"] for d in diffs),
        mismatched=mismatched,
        max_abs=max((d["max_abs"] for d in diffs), default=0.0),
        max_rel=max((d["max_rel"] for d in diffs), default=0.0),
        max_ulp=max((d["max_ulp"] for d in diffs), default=0),
        first_bad=first,
        cause=tol.cause if status == WITHIN else None,
        note=note,
        details=details,
    )


def _series_position(d: dict, ja: np.ndarray, pa: np.ndarray, index_name: str, columns: Sequence[str]) -> str | None:
    """Where a series first goes out: "step 7", "step 7, parameter NAME", or the array index."""
    if d["first_index"] is not None and index_name and ja.ndim in (1, 2):
        pos = np.unravel_index(d["first_index"], ja.shape)
        where = f"{index_name} {pos[0] + 1}"
        if ja.ndim == 2:
            where += f", parameter {columns[pos[1]]}" if pos[1] < len(columns) else f", column {pos[1]}"
        return where
    if d["first_bad"] is not None and d["first_index"] is None and ja.ndim == 1 and pa.ndim == 1:
        return f"length {ja.size} vs {pa.size}"
    return d["first_bad"]


def _as_array(values) -> np.ndarray:
    if isinstance(values, (list, tuple)) and values and isinstance(values[0], str):
        return np.asarray(values, dtype=object)
    return np.asarray(values)


def not_compared(stage: str, mode: str, why: str, remedy: str, cause: str | None = None) -> StageResult:
    """A stage that could not be compared: the run is INCOMPLETE, never PASS."""
    return StageResult(stage, NOT_COMPARED, tolerance_for(stage, mode).describe(), cause=cause, note=why, remedy=remedy)
