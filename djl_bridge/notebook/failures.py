"""Known failures of the published code, each with its signature: the Java exception it raises and
the source line that causes it. A failure is named only when both match."""

from __future__ import annotations

import re
from dataclasses import dataclass

from djl_bridge.notebook.plan import Plan, Unit


@dataclass(frozen=True)
class KnownFailure:
    name: str  # registry name in djl_bridge.parity.divergences
    exception: str  # regex over the Java exception class
    message: str  # regex over its message
    cause_line: str  # regex over a source line of the notebook's code
    patch: str


KNOWN: tuple[KnownFailure, ...] = (
    KnownFailure("djl-bilstm-parameter-layout", r"ai\.djl\.engine\.EngineException",
                 r"The size of tensor a \(\d+\) must match the size of tensor b \(\d+\) at non-singleton dimension",
                 r"optBidirectional\(true\)", "bilstm-layout"),
    KnownFailure("djl-discarded-stop-gradient", r"ai\.djl\.engine\.EngineException",
                 r"Trying to backward through the graph a second time",
                 r"^\s*\w+\.stopGradient\(\);", "keep-stop-gradient"),
)


@dataclass(frozen=True)
class Diagnosis:
    failure: KnownFailure
    unit: Unit
    line: int  # in the unit's origin
    source: str

    def describe(self) -> str:
        return (f"known failure {self.failure.name}: caused at {self.unit.origin} line {self.line} "
                f"(`{self.source.strip()}`); --patch {self.failure.patch} applies the documented fix")


def diagnose(plan: Plan, exception: str, message: str) -> Diagnosis | None:
    """The known failure whose signature the exception and the notebook's code both match, if any."""
    for known in KNOWN:
        if not (re.fullmatch(known.exception, exception or "") and re.search(known.message, message or "")):
            continue
        for unit in plan.units:
            for i, line in enumerate(unit.text.splitlines()):
                if re.search(known.cause_line, line):
                    return Diagnosis(known, unit, unit.first_line + i, line)
    return None
