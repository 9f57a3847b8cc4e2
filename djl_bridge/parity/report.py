"""A comparison's report: the judged stages, the outcome and its exit code, the headline, report.json's body.

Renderings (the terminal table, report.md, report.html) are in ``parity/render.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from djl_bridge.parity.compare import FAILED, IDENTICAL, NOT_COMPARED, StageResult
from djl_bridge.parity.divergences import by_name
from djl_bridge.trace import Trace

SCHEMA = "djl-parity/report/3"


PASS, FAIL, INCOMPLETE = "PASS", "FAIL", "INCOMPLETE"
#: The process exit code of each outcome (documented in the README and ``djl-parity compare --help``).
EXIT_CODES = {PASS: 0, FAIL: 1, INCOMPLETE: 4}


@dataclass(frozen=True)
class Report:
    """Everything a comparison found, built once from the judged stages and the two traces."""

    title: str
    config: dict
    init: str
    stages: tuple[StageResult, ...]
    environment: dict
    #: "perplexity" and "step_loss": {"java": [...], "python": [...]}
    series: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    #: allowed |Δ| per epoch ("perplexity") and per step ("step_loss") when judged by the run's envelope
    bands: dict[str, list[float]] = field(default_factory=dict)
    predictions: dict[str, dict[str, str]] = field(default_factory=dict)
    deviations: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()
    #: the step at which the port's own last-bit drift in the loss passes 1 % (None: not within the run)
    sensitive_from: int | None = None
    #: a notebook's figures, as an HTML fragment (``notebook/figures.py``)
    figures_html: str = ""
    #: what the run computed that no stage compares, and why (a notebook's values the port has no counterpart of)
    not_compared: tuple[str, ...] = ()

    @classmethod
    def of(cls, title: str, config: dict, init: str, stages, java: Trace, port: Trace, **more) -> Report:
        """A report of two traces judged into ``stages``; ``more`` fills the other fields."""
        environment = {f"java: {k}": v for k, v in java.environment.items()}
        environment |= {f"python: {k}": v for k, v in port.environment.items()}
        environment |= {f"java: {k}": f"{v:.3g}" for k, v in java.costs.items()}
        for side, t in (("java", java), ("python", port)):
            if t.speeds:  # reported, never compared
                environment[f"{side}: tokens/s (last epoch)"] = f"{t.speeds[-1]:,.0f}"
        series = {
            "perplexity": {"java": list(java.perplexities), "python": list(port.perplexities)},
            "step_loss": {"java": list(java.losses), "python": list(port.losses)},
        }
        predictions = {
            p: {"java": java.predictions.get(p, ""), "python": port.predictions.get(p, "")} for p in port.predictions
        }
        return cls(
            title,
            config,
            init,
            tuple(stages),
            {**environment, **more.pop("environment", {})},
            series,
            predictions=predictions,
            deviations=tuple(java.deviations) + tuple(more.pop("deviations", ())),
            findings=tuple(port.findings),
            **more,
        )

    @property
    def outcome(self) -> str:
        """FAIL if any stage failed; else INCOMPLETE if any stage was not compared; else PASS."""
        if any(s.status == FAILED for s in self.stages):
            return FAIL
        if not self.stages or any(s.status == NOT_COMPARED for s in self.stages):
            return INCOMPLETE
        return PASS

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.outcome]

    def verdict(self) -> str:
        """The headline: the outcome, what it rests on, where the runs first part, how sensitive the run is."""
        outcome, n = self.outcome, len(self.stages)
        if outcome == FAIL:
            failed = [s for s in self.stages if s.status == FAILED]
            first = failed[0]
            where = f"; they first part at {first.stage}" + (f", {first.first_bad}" if first.first_bad else "")
            names = ", ".join(s.stage for s in failed[:4]) + (f" and {len(failed) - 4} more" if len(failed) > 4 else "")
            return f"FAIL: {len(failed)} of {n} stage(s) differ beyond tolerance or unexplained: {names}{where}" + (
                self.sensitivity()
            )
        if outcome == INCOMPLETE:
            skipped = [s for s in self.stages if s.status == NOT_COMPARED]
            if not skipped:
                return "INCOMPLETE: no stage was compared"
            why = "; ".join(dict.fromkeys(s.note for s in skipped if s.note))
            remedies = " ".join(dict.fromkeys(s.remedy for s in skipped if s.remedy))
            names = ", ".join(s.stage for s in skipped)
            return f"INCOMPLETE: {len(skipped)} of {n} stages not compared ({names}): {why}" + (
                f"; to compare them: {remedies}" if remedies else ""
            )
        identical = sum(s.status == IDENTICAL for s in self.stages)
        if identical == n:
            return f"PASS: all {n} stages compared, all identical" + self.sensitivity()
        return (
            f"PASS: all {n} stages compared; {identical} identical, the rest within a measured bound "
            f"or explained by a named cause" + self.sensitivity()
        )

    def sensitivity(self) -> str:
        """How sensitive the run is, when its own last-bit drift grows past 1 % of the loss within it."""
        if self.sensitive_from is None:
            return ""
        return (
            f"; from step {self.sensitive_from} the port's own last-bit drift passes 1 % of the loss, so parity "
            "beyond it rests on the envelope (statistical), not on the bits"
        )

    def causes(self) -> list[dict]:
        names = sorted({s.cause for s in self.stages if s.cause})
        return [
            {"name": n, "cause": by_name(n).cause, "symptom": by_name(n).symptom(), "shown_by": by_name(n).shown_by}
            for n in names
        ]

    def as_json(self) -> dict:
        return {
            "schema": SCHEMA,
            "title": self.title,
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "verdict": self.verdict(),
            "config": self.config,
            "init": self.init,
            "environment": self.environment,
            "deviations": list(self.deviations),
            "findings": list(self.findings),
            "not_compared": list(self.not_compared),
            "sensitive_from": self.sensitive_from,
            "stages": [s.as_dict() for s in self.stages],
            "causes": self.causes(),
            "series": self.series,
            "predictions": self.predictions,
            "bands": self.bands,
        }
