"""Known failures (and silent behaviours) of the published code, located in the notebook.

Whether a failure is a known one is decided by the registry's signature (exception class,
message, the stack frame it passes through: ``djl_bridge.parity.divergences``); this module adds
where the notebook's code causes it (a source line pattern) and the patch that removes it. A
failure is named only when both the signature and the cause line are found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from djl_bridge.notebook.plan import Plan, Unit

#: registry name -> (the source line that causes it, the --patch that removes it)
CAUSE_LINES: dict[str, tuple[str, str]] = {
    "djl-bilstm-parameter-layout": (r"optBidirectional\(true\)", "bilstm-layout"),
    "djl-discarded-stop-gradient": (r"^\s*\w+\.stopGradient\(\);", "keep-stop-gradient"),
    "djl-rnn-activation-unset": (r"\bRNN\.builder\(\)", "rnn-activation"),
    "mxnet-rnn-activation-relu": (r"\bRNN\.builder\(\)", "rnn-activation"),
}


@dataclass(frozen=True)
class Diagnosis:
    name: str  # registry name
    patch: str
    unit: Unit
    line: int  # in the unit's origin
    source: str

    def describe(self) -> str:
        return (
            f"known failure {self.name}: caused at {self.unit.origin} line {self.line} "
            f"(`{self.source.strip()}`); --patch {self.patch} applies the documented fix"
        )


def diagnose(plan: Plan, exception: str, message: str, stack_trace: str) -> Diagnosis | None:
    """The known failure whose registered signature the exception matches and whose cause line the code has."""
    from djl_bridge.parity.divergences import failure_cause

    known = failure_cause(exception or "", message or "", stack_trace or "")
    return locate(plan, known.name) if known is not None else None


def locate(plan: Plan, name: str) -> Diagnosis | None:
    """Where the notebook's code causes the registered divergence ``name`` (its cause line), if it does."""
    if name not in CAUSE_LINES:
        return None
    pattern, patch = CAUSE_LINES[name]
    for unit in plan.units:
        for i, line in enumerate(unit.text.splitlines()):
            if re.search(pattern, line):
                return Diagnosis(name, patch, unit, unit.first_line + i, line)
    return None
