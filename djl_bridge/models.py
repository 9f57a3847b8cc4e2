"""The notebook's models: ``RNNModel`` around a torch RNN/GRU/LSTM and the hand-written
``RNNModelScratch`` step functions, written with the Java code's exact operation order."""

from __future__ import annotations

import torch
from torch import nn

from djl_bridge.birnn_hand import BiRnnHand
from djl_bridge.config import MODELS
from djl_bridge.layers import State, one_hot_time_major

_LAYERS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class RNNModel(nn.Module):
    """Time-major recurrent layer ("rnn" is tanh) followed by ``Linear(vocab)`` (docs/notebook.md, "Model")."""

    def __init__(self, kind: str, vocab_size: int, hidden: int, layers: int = 1, bidirectional: bool = False) -> None:
        super().__init__()
        if kind not in _LAYERS:
            raise ValueError(f"unknown recurrent layer {kind!r}: expected one of {list(_LAYERS)}")
        self.kind, self.vocab_size = kind, vocab_size
        self.rnn = _LAYERS[kind](vocab_size, hidden, layers, bidirectional=bidirectional)
        self.linear = nn.Linear(hidden * (2 if bidirectional else 1), vocab_size)
        #: "mxnet": the recurrent layer reads its weights as MXNet's fused op does (RNNModel.mxnet_flat_weights)
        self.flat_layout = "libtorch"

    def forward(self, X: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        inputs = one_hot_time_major(X, self.vocab_size)
        if self.flat_layout == "mxnet":
            Y, new_state = self._mxnet_layout_forward(inputs, state)
        elif self.kind == "lstm":
            Y, (H, C) = self.rnn(inputs, None if state is None else tuple(state))
            new_state = [H, C]
        else:
            Y, H = self.rnn(inputs, None if state is None else state[0])
            new_state = [H]
        return self.linear(Y.reshape(-1, Y.shape[-1])), new_state

    def _mxnet_layout_forward(self, inputs: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        rnn = self.rnn
        shape = (rnn.num_layers * (2 if rnn.bidirectional else 1), inputs.shape[1], rnn.hidden_size)
        hx = state if state is not None else [inputs.new_zeros(shape) for _ in range(2 if self.kind == "lstm" else 1)]
        args = (self.mxnet_flat_weights(), True, rnn.num_layers, 0.0, self.training, rnn.bidirectional, False)
        if self.kind == "lstm":
            Y, H, C = torch._VF.lstm(inputs, tuple(hx), *args)
            return Y, [H, C]
        op = torch._VF.gru if self.kind == "gru" else torch._VF.rnn_tanh
        Y, H = op(inputs, hx[0], *args)
        return Y, [H]

    def djl_rnn_parameters(self) -> list[tuple[str, torch.Tensor]]:
        """The recurrent layer's parameters in DJL's order and names: per layer, all WEIGHTs (l i2h, l h2h,
        r i2h, r h2h), then all BIASes (``01rnn_{l|r}_{layer}_{i2h|h2h}_{WEIGHT|BIAS}``)."""
        rnn = self.rnn
        dirs = ("l", "r") if rnn.bidirectional else ("l",)
        pairs = []
        for layer in range(rnn.num_layers):
            for djl_type, torch_type in (("WEIGHT", "weight"), ("BIAS", "bias")):
                for d in dirs:
                    for gate, torch_gate in (("i2h", "ih"), ("h2h", "hh")):
                        attr = f"{torch_type}_{torch_gate}_l{layer}" + ("_reverse" if d == "r" else "")
                        pairs.append((f"01rnn_{d}_{layer}_{gate}_{djl_type}", getattr(rnn, attr)))
        return pairs

    def mxnet_flat_weights(self) -> list[torch.Tensor]:
        """The recurrent weights as MXNet's fused RNN op reads them, in libtorch's per-layer order.

        DJL 0.23's MXNet engine flattens the parameters in DJL's order (per layer: all WEIGHTs, then
        all BIASes) and concatenates them into one vector; MXNet's op reads that vector as all
        weights of every layer first (per layer and direction: i2h, h2h), then all biases in the same
        order. With one layer the two orders agree; with more, every layer after the first and every
        bias reads a shifted window of the vector. This returns those windows (views of one
        concatenation, so gradients flow back to the DJL-named parameters exactly as on MXNet), as
        ``[w_ih, w_hh, b_ih, b_hh]`` per layer and direction for ``torch._VF``'s recurrent ops.
        """
        rnn = self.rnn
        flat = torch.cat([p.reshape(-1) for _, p in self.djl_rnn_parameters()])
        dirs = 2 if rnn.bidirectional else 1
        gates_hidden = rnn.weight_ih_l0.shape[0]
        weights, biases, offset = [], [], 0

        def take(shape: tuple[int, ...]) -> torch.Tensor:
            nonlocal offset
            n = int(torch.Size(shape).numel())
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


def _rnn_step(X, H, W_xh, W_hh, b_h):
    return [torch.tanh(X @ W_xh + H @ W_hh + b_h)]


def _gru_step(X, H, W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h):
    # the Java code adds the bias to the hidden term first: X W + (H W + b)
    Z = torch.sigmoid(X @ W_xz + (H @ W_hz + b_z))
    R = torch.sigmoid(X @ W_xr + (H @ W_hr + b_r))
    H_tilde = torch.tanh(X @ W_xh + ((R * H) @ W_hh + b_h))
    return [Z * H + (Z * -1 + 1) * H_tilde]


def _lstm_step(X, H, C, W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c):
    I = torch.sigmoid(X @ W_xi + (H @ W_hi + b_i))
    F_ = torch.sigmoid(X @ W_xf + (H @ W_hf + b_f))
    O = torch.sigmoid(X @ W_xo + (H @ W_ho + b_o))
    C_tilde = torch.tanh(X @ W_xc + (H @ W_hc + b_c))
    C = F_ * C + I * C_tilde
    return [O * torch.tanh(C), C]


# kind -> (gate groups of (W_x*, W_h*, b_*), number of state arrays, step function)
_SCRATCH = {
    "rnn": (("h",), 1, _rnn_step),
    "gru": (("z", "r", "h"), 1, _gru_step),
    "lstm": (("i", "f", "o", "c"), 2, _lstm_step),
}


class RNNModelScratch(nn.Module):
    """Hand-written RNN/GRU/LSTM (docs/notebook.md, "Scratch models"): parameters named as in the notebooks."""

    def __init__(self, kind: str, vocab_size: int, hidden: int) -> None:
        super().__init__()
        if kind not in _SCRATCH:
            raise ValueError(f"unknown scratch model {kind!r}: expected one of {list(_SCRATCH)}")
        gates, self.num_states, self._step = _SCRATCH[kind]
        self.kind, self.vocab_size, self.hidden = kind, vocab_size, hidden
        shapes = {}
        for g in gates:
            shapes |= {f"W_x{g}": (vocab_size, hidden), f"W_h{g}": (hidden, hidden), f"b_{g}": (hidden,)}
        shapes |= {"W_hq": (hidden, vocab_size), "b_q": (vocab_size,)}
        self.param_names: list[str] = list(shapes)
        for name, shape in shapes.items():
            self.register_parameter(name, nn.Parameter(torch.zeros(shape)))

    @property
    def params(self) -> list[torch.Tensor]:
        return [getattr(self, n) for n in self.param_names]

    def begin_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        return [torch.zeros(batch_size, self.hidden, device=device) for _ in range(self.num_states)]

    def forward(self, X: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        *step_params, W_hq, b_q = self.params
        outputs = []
        for X_t in one_hot_time_major(X, self.vocab_size).to(W_hq.dtype):
            state = self._step(X_t, *state, *step_params)
            outputs.append(state[0] @ W_hq + b_q)
        return torch.cat(outputs), state


def build_model(
    name: str,
    vocab_size: int,
    hidden: int,
    layers: int = 1,
    bias: bool = False,
    learn_boundary: bool = False,
    engine: str = "pytorch",
) -> nn.Module:
    """A model by notebook name; ``layers`` applies to the concise models only
    ("deep-lstm" and "bilstm" use it as given, the notebooks use 2); ``bias`` and
    ``learn_boundary`` to birnn-hand only. ``engine="mxnet"`` makes a concise model read its
    recurrent weights as MXNet's fused op does (``RNNModel.flat_layout``)."""
    model = _build_model(name, vocab_size, hidden, layers, bias, learn_boundary)
    if engine == "mxnet" and isinstance(model, RNNModel) and model.rnn.num_layers > 1:
        model.flat_layout = "mxnet"  # one layer: MXNet reads DJL's order as libtorch does (same bits, faster path)
    return model


def _build_model(name: str, vocab_size: int, hidden: int, layers: int, bias: bool, learn_boundary: bool) -> nn.Module:
    if name == "birnn-hand":
        return BiRnnHand(vocab_size, hidden, bias, learn_boundary)
    if name.endswith("-scratch") and name[:-8] in _SCRATCH:
        return RNNModelScratch(name[:-8], vocab_size, hidden)
    if name in _LAYERS:
        return RNNModel(name, vocab_size, hidden, layers)
    if name == "deep-lstm":
        return RNNModel("lstm", vocab_size, hidden, layers)
    if name == "bilstm":
        return RNNModel("lstm", vocab_size, hidden, layers, bidirectional=True)
    raise ValueError(f"unknown model {name!r}: expected one of {', '.join(MODELS)}")
