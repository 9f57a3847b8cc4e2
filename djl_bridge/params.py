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
    rnn = model.rnn
    dirs = ("l", "r") if rnn.bidirectional else ("l",)
    pairs = []
    for layer in range(rnn.num_layers):
        for djl_type, torch_type in (("WEIGHT", "weight"), ("BIAS", "bias")):
            for d in dirs:
                for gate, torch_gate in (("i2h", "ih"), ("h2h", "hh")):
                    attr = f"{torch_type}_{torch_gate}_l{layer}" + ("_reverse" if d == "r" else "")
                    pairs.append((f"01rnn_{d}_{layer}_{gate}_{djl_type}", getattr(rnn, attr)))
    pairs += [("02linear_weight", model.linear.weight), ("02linear_bias", model.linear.bias)]
    return pairs


def mxnet_flat_weights(model: RNNModel) -> list[torch.Tensor]:
    """The recurrent weights as MXNet's fused RNN op reads them, in libtorch's per-layer order.

    DJL 0.23's MXNet engine flattens the parameters in DJL's order (per layer: all WEIGHTs, then
    all BIASes) and concatenates them into one vector; MXNet's op reads that vector as all
    weights of every layer first (per layer and direction: i2h, h2h), then all biases in the same
    order. With one layer the two orders agree; with more, every layer after the first and every
    bias reads a shifted window of the vector. This returns those windows (views of one
    concatenation, so gradients flow back to the DJL-named parameters exactly as on MXNet), as
    ``[w_ih, w_hh, b_ih, b_hh]`` per layer and direction for ``torch._VF``'s recurrent ops.
    """
    rnn = model.rnn
    flat = torch.cat([p.reshape(-1) for name, p in djl_parameters(model) if name.startswith("01rnn_")])
    dirs = 2 if rnn.bidirectional else 1
    gates_hidden = rnn.weight_ih_l0.shape[0]
    weights, biases, offset = [], [], 0

    def take(shape: tuple[int, ...]) -> torch.Tensor:
        nonlocal offset
        n = int(np.prod(shape))
        out = flat[offset : offset + n].view(shape)
        offset += n
        return out

    for layer in range(rnn.num_layers):
        in_size = rnn.input_size if layer == 0 else rnn.hidden_size * dirs
        for _ in range(dirs):
            weights.append((take((gates_hidden, in_size)), take((gates_hidden, rnn.hidden_size))))
    for _ in range(rnn.num_layers * dirs):
        biases.append((take((gates_hidden,)), take((gates_hidden,))))
    return [t for (w_ih, w_hh), (b_ih, b_hh) in zip(weights, biases) for t in (w_ih, w_hh, b_ih, b_hh)]


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
