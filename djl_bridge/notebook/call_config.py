"""The run configuration of one of the notebook's ``trainCh8`` calls, read from the notebook itself.

The model kind, hidden size and layers come from the model's parameters (their names and
shapes); batch size, steps, max tokens and offset from the notebook's dataset; lr, epochs and
sampling from the call's arguments. Torch-free: an engine worker derives it too.
"""

from __future__ import annotations

import numpy as np

from djl_bridge.config import RunConfig
from djl_bridge.notebook.executor import NotebookData, Params, TrainingCall

_SCRATCH_KINDS = {5: "rnn-scratch", 11: "gru-scratch", 14: "lstm-scratch"}
_GATES = {4: "lstm", 3: "gru", 1: "rnn"}


def model_config(params: list[tuple[str, np.ndarray]]) -> tuple[str, int, int] | str:
    """(port model name, hidden, layers) from a model's parameters, or why the port has no such model."""
    names = [n for n, _ in params]
    if all(n.isdigit() for n in names):
        kind = _SCRATCH_KINDS.get(len(params))
        return (kind, int(params[0][1].shape[1]), 1) if kind else f"a scratch model with {len(params)} parameters"
    h2h = next((a for n, a in params if n.endswith("_l_0_h2h_WEIGHT")), None)
    i2h = next((a for n, a in params if n.endswith("_l_0_i2h_WEIGHT")), None)
    if h2h is None or i2h is None:
        return f"a model with parameters {', '.join(names[:4])}..."
    hidden = int(h2h.shape[1])
    kind = _GATES.get(int(i2h.shape[0]) // hidden)
    layers = sum(n.endswith("_i2h_WEIGHT") and "_l_" in n for n in names)
    bidirectional = any("_r_0_" in n for n in names)
    if kind is None or (bidirectional and kind != "lstm"):
        return f"a {'bidirectional ' if bidirectional else ''}{kind or 'recurrent'} layer"
    return ("bilstm" if bidirectional else kind), hidden, layers


def call_config(call: TrainingCall, nb: NotebookData, seed: int) -> RunConfig | tuple[str, str]:
    """The call's run configuration, or (stage, why) when the port cannot run it."""
    if call.final_params is None:
        return "final.params", f"the model {call.args[:1]} has no readable parameters"
    found = model_config(call.final_params)
    if isinstance(found, str):
        return "model", f"the port has no {found}"
    model, hidden, layers = found
    return RunConfig(
        model=model,
        epochs=call.settings["epochs"],
        lr=call.settings["lr"],
        hidden=hidden,
        layers=layers,
        batch_size=int(nb.batches_x.shape[1]),
        num_steps=int(nb.batches_x.shape[2]),
        max_tokens=nb.max_tokens,
        offset=nb.offset,
        seed=seed,
        device="cpu",
        random_iter=call.settings["random_iter"],
    ).resolved()


def named(params: Params, names: list[str]) -> Params:
    """Scratch parameters come by position; give them the port's names (the notebook's order)."""
    if params and all(n.isdigit() for n, _ in params):
        return list(zip(names, (a for _, a in params)))
    return params
