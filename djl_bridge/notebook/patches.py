"""The minimal source patches ``--patch NAME`` applies to the published code, never silently.

Each patch rewrites lines in place (the line count stays, so reported lines still match the
user's files), names the known failure it removes, and is shown as a unified diff.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from djl_bridge.notebook.cells import NotebookError
from djl_bridge.notebook.plan import Plan


@dataclass(frozen=True)
class Patch:
    name: str
    fixes: str  # the known failure (registry name) it removes
    summary: str
    rewrite: Callable[[str], str]


def _keep_stop_gradient(text: str) -> str:
    # for (NDArray s : state) { s.stopGradient(); }  ->  store each detached array back
    loop = re.compile(r"for \(NDArray (\w+) : (\w+)\) \{(\s*)\1\.stopGradient\(\);(\s*)\}")
    return loop.sub(
        lambda m: (
            f"for (int i = 0; i < {m[2]}.size(); i++) {{{m[3]}{m[2]}.set(i, {m[2]}.get(i).stopGradient());{m[4]}}}"
        ),
        text,
    )


def _bilstm_layout(text: str) -> str:
    if "optBidirectional(true)" not in text:
        return text
    text = re.sub(r"\bLSTM(\s+\w+\s*=)", r"ai.djl.nn.recurrent.RecurrentBlock\1", text)
    return re.sub(r"\bLSTM\.builder\(\)", "org.djlparity.fix.LayoutFixedLstm.builder()", text)


def _rnn_activation(text: str) -> str:
    if "setActivation" in text:
        return text
    return re.sub(r"\bRNN\.builder\(\)", "RNN.builder().setActivation(RNN.Activation.TANH)", text)


PATCHES: dict[str, Patch] = {
    p.name: p
    for p in (
        Patch(
            "keep-stop-gradient",
            "djl-discarded-stop-gradient",
            "keep the detached state: the training loop calls stopGradient() on each carried state array and "
            "discards the result; store it back into the state list",
            _keep_stop_gradient,
        ),
        Patch(
            "bilstm-layout",
            "djl-bilstm-parameter-layout",
            "build bidirectional LSTM layers with djl-parity's LayoutFixedLstm (same parameters, handed to "
            "libtorch in its per-direction order) instead of DJL's LSTM",
            _bilstm_layout,
        ),
        Patch(
            "rnn-activation",
            "djl-rnn-activation-unset",
            "give the RNN layer the book's tanh activation: RNN.builder() has no default activation "
            "(DJL's PyTorch engine fails on it, MXNet trains a ReLU RNN: mxnet-rnn-activation-relu)",
            _rnn_activation,
        ),
    )
}


def apply_patches(plan: Plan, names: list[str]) -> list[str]:
    """Apply the named patches to the plan's units; the unified diff of each changed unit."""
    diffs = []
    for name in names:
        if name not in PATCHES:
            raise NotebookError(f"--patch {name}: unknown patch; choose from {', '.join(PATCHES)}")
        patch, changed = PATCHES[name], False
        for unit in plan.units:
            new = patch.rewrite(unit.text)
            if new == unit.text:
                continue
            changed = True
            diffs.append(
                "".join(
                    difflib.unified_diff(
                        unit.text.splitlines(keepends=True),
                        new.splitlines(keepends=True),
                        f"a/{unit.origin}",
                        f"b/{unit.origin} (--patch {name})",
                        n=1,
                    )
                )
            )
            unit.text = new
        if not changed:
            raise NotebookError(f"--patch {name}: nothing in this notebook to patch ({patch.summary})")
    return diffs
