"""`djl-parity gradcheck`: every check of a model on both sides, one row per (side, check, parameter)."""

from __future__ import annotations

import numpy as np

from djl_bridge.gradcheck.problems import (
    HAND_PROBLEMS,
    MODELS,
    SCRATCH_PROBLEMS,
    SIDES,
    THRESHOLDS,
    WEIGHT_SCALE,
    Problem,
    Row,
    finite_difference_errors,
    relative_error,
)
from djl_bridge.gradcheck.python_side import PythonSide
from djl_bridge.models import build_model


def _problem_data(model: str, p: Problem, rng: np.random.Generator):
    net = build_model(model, p.vocab, p.hidden, 1, p.bias, p.learn_boundary)
    weights = {n: rng.normal(0.0, WEIGHT_SCALE, tuple(t.shape)) for n, t in zip(net.param_names, net.params)}
    X = rng.integers(0, p.vocab, (p.batch, p.steps), dtype=np.int32)
    Y = rng.integers(0, p.vocab, (p.batch, p.steps), dtype=np.int32)
    n_states = 2 if model == "lstm-scratch" else 1
    if model == "birnn-hand":
        state = None if p.from_boundary else [rng.normal(0.0, WEIGHT_SCALE, (p.batch, p.hidden))]
    elif p.from_boundary:
        state = [np.zeros((p.batch, p.hidden)) for _ in range(n_states)]
    else:
        state = [rng.normal(0.0, WEIGHT_SCALE, (p.batch, p.hidden)) for _ in range(n_states)]
    return weights, X, Y, state


def java_checks(model: str, cases: list[dict]) -> list[dict]:
    """Every problem's Java side in one worker on DJL's PyTorch engine (``gradcheck/java_side.py``)."""
    from djl_bridge.sides.worker import run_worker

    answer, _ = run_worker("pytorch", {"op": "gradcheck", "model": model, "cases": cases})
    return answer


def run(model: str, seed: int = 0, sides: tuple[str, ...] = SIDES) -> list[Row]:
    """Every check of ``model`` on ``sides``; one row per (side, check, parameter), worst over problems."""
    if model not in MODELS:
        raise ValueError(f"gradcheck covers {', '.join(MODELS)}; got {model!r}")
    unknown = set(sides) - set(SIDES)
    if unknown or not sides:
        raise ValueError(f"sides must be among {', '.join(SIDES)}; got {', '.join(sides) or 'none'}")
    hand = model == "birnn-hand"
    worst: dict[tuple[str, str, str], float] = {}

    def note(side: str, check: str, errors: dict[str, float]) -> None:
        for name, err in errors.items():
            worst[(side, check, name)] = max(worst.get((side, check, name), 0.0), err)

    cases, torch_grads = [], []
    for k, p in enumerate(HAND_PROBLEMS if hand else SCRATCH_PROBLEMS):
        weights, X, Y, state = _problem_data(model, p, np.random.default_rng((seed, k)))
        python = PythonSide(model, p, weights, X, Y, state)
        torch_grads.append(python.autograd())
        cases.append({"problem": p, "weights": weights, "X": X, "Y": Y, "state": state, "fd_seed": [seed, k, 1]})
        if "python" in sides:
            grads = python.hand() if hand else torch_grads[-1]
            if hand:
                note("python", "hand-vs-autograd", {n: relative_error(grads[n], torch_grads[-1][n]) for n in grads})
            fd_rng = np.random.default_rng((seed, k, 0))
            note("python", "finite-diff", finite_difference_errors(grads, weights, python.loss_at, fd_rng))
    for java, ref in zip(java_checks(model, cases) if "java" in sides else [], torch_grads):
        got, check = (java["hand"], "hand-vs-autograd") if hand else (java["autograd"], "djl-vs-torch")
        want = java["autograd"] if hand else ref
        note("java", check, {n: relative_error(got[n], want[n]) for n in got})
        note("java", "finite-diff", java["fd_errors"])
    rows = [Row(side, check, name, err) for (side, check, name), err in worst.items()]
    return sorted(rows, key=lambda r: (SIDES.index(r.side), list(THRESHOLDS).index(r.check)))


def table(rows: list[Row]) -> list[str]:
    """The rows as aligned text lines, with a header."""
    cells = [["side", "check", "parameter", "worst error", "threshold", ""]] + [
        [r.side, r.check, r.param, f"{r.error:.2e}", f"{r.threshold:.0e}", "ok" if r.ok else "FAIL"] for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(cells[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in cells]


def verdict(rows: list[Row]) -> str:
    bad = [r for r in rows if not r.ok]
    if bad:
        return "FAIL: " + ", ".join(f"{r.side} {r.check} {r.param} {r.error:.2e} > {r.threshold:.0e}" for r in bad)
    worst = {c: max(r.error for r in rows if r.check == c) for c in THRESHOLDS if any(r.check == c for r in rows)}
    return (
        "PASS: every parameter within its threshold (worst " + ", ".join(f"{c} {e:.2e}" for c, e in worst.items()) + ")"
    )
