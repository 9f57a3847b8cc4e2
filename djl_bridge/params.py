"""The one mapping between DJL parameter names/layout and the port's parameters.

Concise models (Java ``RNNModel`` adds child "rnn", then "linear"): DJL keeps, per layer,
all WEIGHTs (l i2h, l h2h, r i2h, r h2h) then all BIASes, named
``01rnn_{l|r}_{layer}_{i2h|h2h}_{WEIGHT|BIAS}``, then ``02linear_weight`` (vocab, dirs*hidden)
and ``02linear_bias``. Both sides use libtorch's gate order and shapes, so the mapping is
names only: l -> forward, r -> ``_reverse``, i2h -> ``ih``, h2h -> ``hh``.
Scratch models and birnn-hand: the notebook's names (``W_xh`` ...) and ours (``U`` ...), identity.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from djl_bridge.birnn_hand import BiRnnHand
from djl_bridge.models import RNNModel, RNNModelScratch, build_model


def djl_parameters(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """(DJL name, port parameter) pairs in DJL's order."""
    if isinstance(model, (RNNModelScratch, BiRnnHand)):
        return list(zip(model.param_names, model.params))
    if not isinstance(model, RNNModel):
        raise TypeError(f"no DJL mapping for {type(model).__name__}")
    pairs = model.djl_rnn_parameters()
    pairs += [("02linear_weight", model.linear.weight), ("02linear_bias", model.linear.bias)]
    return pairs


def djl_names(model: nn.Module) -> list[str]:
    return [name for name, _ in djl_parameters(model)]


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def to_djl(model: nn.Module) -> dict[str, np.ndarray]:
    """Parameter values as DJL names and layout, in DJL order."""
    return {name: _numpy(p) for name, p in djl_parameters(model)}


def grads_to_djl(model: nn.Module) -> dict[str, np.ndarray]:
    """Gradients as DJL names and layout (zeros where a parameter has no gradient yet)."""
    return {
        name: _numpy(p.grad) if p.grad is not None else np.zeros(tuple(p.shape), np.float32)
        for name, p in djl_parameters(model)
    }


@torch.no_grad()
def from_djl(model: nn.Module, arrays: Mapping[str, np.ndarray]) -> None:
    """Copy DJL-named arrays into the model exactly; every name must match, every shape too."""
    pairs = djl_parameters(model)
    expected = {name for name, _ in pairs}
    missing, extra = expected - set(arrays), set(arrays) - expected
    if missing or extra:
        raise KeyError(
            f"DJL parameters do not match {type(model).__name__}: missing {sorted(missing)}, unexpected {sorted(extra)}"
        )
    for name, p in pairs:
        value = np.asarray(arrays[name])
        if value.shape != tuple(p.shape):
            raise ValueError(f"{name}: DJL shape {value.shape} != port shape {tuple(p.shape)}")
        p.copy_(torch.from_numpy(value.astype(np.float32, copy=False)))


@torch.no_grad()
def set_grads(model: nn.Module, arrays: Mapping[str, np.ndarray]) -> None:
    """Give every parameter the DJL-named gradient in ``arrays`` (exactly; zero where it is all zero)."""
    for name, p in djl_parameters(model):
        p.grad = torch.from_numpy(np.asarray(arrays[name], np.float32).copy())


@torch.no_grad()
def init_djl_(model: nn.Module, generator: torch.Generator) -> None:
    """DJL's initialisation: every weight N(0, 0.01), every bias zero, drawn in DJL's
    parameter order (``params.djl_names``) from ``generator`` (a CPU generator). A model's
    ``initial_values`` (birnn-hand's learned boundaries) are constants and draw nothing."""
    constants = getattr(model, "initial_values", {})
    for name, p in djl_parameters(model):
        if name in constants:
            p.fill_(constants[name])
        elif name.endswith(("BIAS", "_bias")) or name.startswith("b_"):
            p.zero_()
        else:
            p.copy_(torch.normal(0.0, 0.01, tuple(p.shape), generator=generator))


def seeded_model(
    name: str,
    vocab_size: int,
    hidden: int,
    layers: int,
    seed: int,
    bias: bool = False,
    learn_boundary: bool = False,
    engine: str = "pytorch",
) -> nn.Module:
    """The model ``name`` with DJL's initialisation drawn from ``seed`` (what each side does on its own);
    ``engine="mxnet"``: reading its recurrent weights as MXNet does (``models.build_model``).

    torch.nn modules draw their default initialisation from libtorch's global generator, which
    in this process is also DJL's (``Engine.setRandomSeed``): building them must not consume it.
    """
    with torch.random.fork_rng(devices=[]):
        net = build_model(name, vocab_size, hidden, layers, bias, learn_boundary, engine)
    init_djl_(net, torch.Generator().manual_seed(seed))
    return net
