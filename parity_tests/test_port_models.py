"""Models, DJL parameter mapping, device names."""

import numpy as np
import pytest
import torch

from djl_bridge.config import MODELS as MODEL_NAMES
from djl_bridge.device import djl_device_name, resolve_device
from djl_bridge.layers import one_hot_time_major
from djl_bridge.models import RNNModelScratch, build_model
from djl_bridge.params import djl_names, from_djl, grads_to_djl, init_djl_, to_djl

V, H = 7, 4


def test_one_hot_layout():
    X = torch.tensor([[1, 2, 3], [4, 5, 6]], dtype=torch.int32)  # (batch 2, steps 3)
    oh = one_hot_time_major(X, V)
    assert oh.shape == (3, 2, V) and oh.dtype == torch.float32
    assert oh[2, 0].argmax() == 3 and oh[0, 1].argmax() == 4 and oh.sum() == 6


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_forward_shapes(name):
    net = build_model(name, V, H, 2)
    X = torch.randint(0, V, (3, 5))
    if hasattr(net, "begin_state"):  # the scratch models and birnn-hand
        Y, state = net(X, net.begin_state(3))
        assert [s.shape for s in state] == [(3, H)] * (2 if name == "lstm-scratch" else 1)
    else:
        Y, state = net(X)
        dirs = 2 if name == "bilstm" else 1
        layers = 2
        assert [s.shape for s in state] == [(layers * dirs, 3, H)] * (2 if "lstm" in name else 1)
    assert Y.shape == (15, V)


def test_concise_output_rows_are_time_major():
    net = build_model("gru", V, H, 1)
    X = torch.randint(0, V, (2, 4))
    Y, _ = net(X)
    Y0, _ = net(X[:, :1])  # step 0 of both rows = first two output rows
    torch.testing.assert_close(Y[:2], Y0)


def test_djl_key_order_bilstm():
    names = djl_names(build_model("bilstm", V, H, 2))
    layer0 = [f"01rnn_{d}_0_{g}_{t}" for t in ("WEIGHT", "BIAS") for d in "lr" for g in ("i2h", "h2h")]
    assert names[:8] == layer0
    assert names[8] == "01rnn_l_1_i2h_WEIGHT" and names[-2:] == ["02linear_weight", "02linear_bias"]
    shapes = {k: v.shape for k, v in to_djl(build_model("bilstm", V, H, 2)).items()}
    assert shapes["01rnn_r_0_i2h_WEIGHT"] == (4 * H, V)
    assert shapes["01rnn_l_1_i2h_WEIGHT"] == (4 * H, 2 * H)
    assert shapes["02linear_weight"] == (V, 2 * H)


def test_scratch_names():
    assert djl_names(RNNModelScratch("gru", V, H)) == [
        "W_xz",
        "W_hz",
        "b_z",
        "W_xr",
        "W_hr",
        "b_r",
        "W_xh",
        "W_hh",
        "b_h",
        "W_hq",
        "b_q",
    ]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_mapping_round_trip_bit_exact(name):
    src, dst = build_model(name, V, H, 2), build_model(name, V, H, 2)
    for p in src.parameters():
        torch.nn.init.normal_(p)
    arrays = to_djl(src)
    from_djl(dst, arrays)
    for (a, pa), (b, pb) in zip(src.named_parameters(), dst.named_parameters()):
        assert a == b and torch.equal(pa, pb)
    assert list(to_djl(dst)) == djl_names(dst)
    assert all(np.array_equal(arrays[k], v) for k, v in to_djl(dst).items())


def test_mapping_errors():
    net = build_model("lstm", V, H, 1)
    arrays = to_djl(net)
    with pytest.raises(KeyError, match="missing"):
        from_djl(net, {k: v for k, v in arrays.items() if k != "02linear_bias"})
    arrays["02linear_bias"] = np.zeros(V + 1, np.float32)
    with pytest.raises(ValueError, match="02linear_bias"):
        from_djl(net, arrays)


def test_grads_to_djl_maps_reverse_direction():
    net = build_model("bilstm", V, H, 1)
    Y, _ = net(torch.randint(0, V, (2, 3)))
    Y.sum().backward()
    grads = grads_to_djl(net)
    assert np.array_equal(grads["01rnn_r_0_h2h_WEIGHT"], net.rnn.weight_hh_l0_reverse.grad.numpy())


def test_init_djl():
    net = build_model("lstm-scratch", V, H, 1)
    init_djl_(net, torch.Generator().manual_seed(0))
    assert torch.count_nonzero(net.b_i) == 0 and 0.003 < net.W_xi.std() < 0.02
    other = build_model("lstm-scratch", V, H, 1)
    init_djl_(other, torch.Generator().manual_seed(0))
    assert torch.equal(net.W_hq, other.W_hq)


def test_devices():
    assert resolve_device("cpu") == torch.device("cpu")
    assert djl_device_name(torch.device("cpu")) == "cpu()"
    assert djl_device_name("cuda:1") == "gpu(1)" and djl_device_name("cuda") == "gpu(0)"
    if not torch.cuda.is_available():
        assert resolve_device("auto").type == "cpu"
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")
