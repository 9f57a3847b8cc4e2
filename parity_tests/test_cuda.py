"""The port's CUDA paths: training in both modes, cuDNN in fast mode, prediction. They run where CUDA is
present and are skipped with the reason elsewhere (the benchmark's -cuda rows are in test_bench.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from djl_bridge.parity.tolerances import tolerance_for

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available on this machine")

TINY = [
    "--model",
    "bilstm",
    "--hidden",
    "16",
    "--layers",
    "2",
    "--max-tokens",
    "1500",
    "--batch-size",
    "8",
    "--num-steps",
    "10",
    "--epochs",
    "3",
    "--offset",
    "0",
    "--seed",
    "2",
]


def train(tmp_path, device: str, mode: str) -> dict:
    out = tmp_path / f"{device}-{mode}"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "djl_bridge.cli",
            "train",
            "--impl",
            "python",
            "--device",
            device,
            "--mode",
            mode,
            "--out",
            str(out),
            *TINY,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "metrics.json").read_text()) | {"stdout": proc.stdout}


@pytest.mark.parametrize("mode", ["parity", "fast"])
def test_train_on_cuda_follows_the_cpu_run(tmp_path, mode):
    """Same seed, offset and weights: the CUDA run's per-epoch perplexities stay within fast mode's
    tolerance of the CPU run's (cuDNN and oneDNN round differently: the registry's fast-mode-ops
    reasoning; in parity mode too, as the kernels differ)."""
    gpu, cpu = train(tmp_path, "cuda", mode), train(tmp_path, "cpu", mode)
    assert gpu["device"] == "gpu(0)" and "tokens/sec on gpu(0)" in gpu["stdout"]
    tol = tolerance_for("epochs.perplexity", "fast")
    for g, c in zip(gpu["perplexities"], cpu["perplexities"], strict=True):
        assert abs(g - c) <= tol.atol + tol.rtol * abs(c), (gpu["perplexities"], cpu["perplexities"])
    assert gpu["perplexities"][-1] < gpu["perplexities"][0]


def test_fast_mode_on_cuda_runs_the_recurrent_layer_in_cudnn(data_file):
    from torch.profiler import ProfilerActivity, profile

    from djl_bridge.dataset import TimeMachineDataset
    from djl_bridge.params import seeded_model
    from djl_bridge.text import load_corpus_time_machine
    from djl_bridge.training import train_epoch_ch8

    corpus, vocab = load_corpus_time_machine(data_file, 1500)
    dataset = TimeMachineDataset(corpus, 8, 10, offset=0)
    net = seeded_model("bilstm", len(vocab), 16, 2, 0)
    device = torch.device("cuda")
    net.to(device)
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        train_epoch_ch8(net, dataset.batches(device), 1, device, False, "fast")
    names = {e.key for e in prof.key_averages()}
    assert "aten::_cudnn_rnn" in names and "aten::_cudnn_rnn_backward" in names, sorted(names)


def test_prediction_on_cuda_matches_the_cpu(data_file):
    from djl_bridge.dataset import TimeMachineDataset
    from djl_bridge.params import seeded_model
    from djl_bridge.text import load_corpus_time_machine
    from djl_bridge.training import predict_ch8, train_epoch_ch8

    corpus, vocab = load_corpus_time_machine(data_file, 1500)
    net = seeded_model("bilstm", len(vocab), 16, 2, 1)
    cpu = torch.device("cpu")
    train_epoch_ch8(net, TimeMachineDataset(corpus, 8, 10, offset=0).batches(), 1, cpu, False, "fast")
    on_cpu = predict_ch8("time traveller", 50, net, vocab, cpu)
    on_gpu = predict_ch8("time traveller", 50, net.to("cuda"), vocab, torch.device("cuda"))
    assert len(on_gpu) == len("time traveller") + 50 and on_gpu == on_cpu
