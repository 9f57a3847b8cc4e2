"""`djl-parity bench` and the idiomatic baseline it measures against (no speed is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

CLI = [sys.executable, "-m", "djl_bridge.cli", "bench"]
SMALL = [
    "--hidden",
    "16",
    "--max-tokens",
    "1500",
    "--batch-size",
    "8",
    "--num-steps",
    "10",
    "--epochs",
    "2",
    "--warmup",
    "1",
]


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *SMALL, *args], capture_output=True, text=True, timeout=600)


def test_bench_json_has_every_row_with_ratios_peak_share_and_jvm_figures(tmp_path):
    plot, profile = tmp_path / "bench.png", tmp_path / "profile.png"
    proc = bench("--json", "--sides", "--plot", str(plot), "--profile", str(profile))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    rows = {r["name"]: r for r in result["rows"]}
    skipped = {s["name"]: s["reason"] for s in result["skipped"]}
    for name in ("baseline", "python-parity", "python-fast", "djl-pytorch", "sides-sequential", "sides-concurrent"):
        assert rows[name]["tokens_per_s"] > 0 and len(rows[name]["epoch_tokens_per_s"]) == 3
        assert 0 < rows[name]["peak_share"] < 1
    assert rows["djl-mxnet"]["tokens_per_s"] > 0  # the MXNet worker is built by set-up: its row must run
    cuda_rows = ("baseline-cuda", "python-parity-cuda", "python-fast-cuda")
    if torch.cuda.is_available():
        assert all(rows[n]["tokens_per_s"] > 0 for n in cuda_rows)
    else:
        assert all("CUDA" in skipped[n] for n in cuda_rows)
    ratios = result["ratios"]
    assert ratios["python-fast/baseline"] == pytest.approx(
        rows["python-fast"]["tokens_per_s"] / rows["baseline"]["tokens_per_s"]
    )
    expected = {"python-parity/djl-pytorch", "python-fast/python-parity", "sides-concurrent/sides-sequential"}
    assert expected <= set(ratios)
    sides = rows["sides-concurrent"]["sides_seconds"]
    assert sides["whole"] >= max(sides["python"], sides["java"]) * 0.99
    assert result["matmul_peak_GFLOPs"]["cpu"] > 0
    for name in ("djl-pytorch", "djl-mxnet"):  # each Java row ran in a worker: its start and messages
        costs = result["workers"][name]
        assert costs["worker_start_s"] > costs["jvm_start_s"] > 0 and costs["transfer_MB"] > 0
    assert result["omp_wait_policy"] == os.environ.get("OMP_WAIT_POLICY", "PASSIVE")  # the CLI's default
    assert plot.read_bytes()[:8] == profile.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["profile"] and sum(p["share"] for p in result["profile"]) <= 1 + 1e-9
    assert all(p["GFLOPs"] > 0 for p in result["profile"] if "rnn_layer" in p["op"])
    assert "round 3/3" in proc.stderr  # progress, on stderr


def test_bench_table_names_only_the_rows_asked_for():
    proc = bench("--rows", "baseline,python-fast")
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines()[1:3]]
    assert names == ["baseline", "python-fast"]
    assert "ratio python-fast/baseline:" in proc.stdout and "djl-pytorch" not in proc.stdout
    assert "worker" not in proc.stdout  # no Java row, no worker


@pytest.mark.parametrize(
    "args,fragment", [(["--rows", "tensorflow"], "unknown bench row"), (["--epochs", "0"], "--epochs must be positive")]
)
def test_bench_bad_input_is_one_line_exit_2(args, fragment):
    proc = bench(*args)
    assert proc.returncode == 2 and fragment in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_flops_per_token_counts_the_notebook_model():
    from djl_bridge.bench.measure import flops_per_token

    # bi-LSTM 2x256 over 28 tokens: layer 1 2*(2*4*256*(28+256)), layer 2 2*(2*4*256*(512+256)), head 2*512*28
    forward = 2 * 2 * 4 * 256 * (28 + 256) + 2 * 2 * 4 * 256 * (512 + 256) + 2 * 512 * 28
    assert flops_per_token(28, 256, 2) == 3 * forward
    assert 12e6 < flops_per_token(28, 256, 2) < 14e6


def test_baseline_is_the_ports_model(data_file):
    """Same weights in, same logits out: the baseline's speed is the speed of the same model."""
    from djl_bridge.baseline import CharLSTM
    from djl_bridge.params import seeded_model

    port = seeded_model("bilstm", 28, 12, 2, 3)
    base = CharLSTM(28, 12, 2)
    base.load_state_dict(
        {k.replace("rnn.", "lstm.").replace("linear.", "head."): v for k, v in port.state_dict().items()}
    )
    X = torch.randint(0, 28, (4, 7), dtype=torch.int32)
    (y_port, s_port), (y_base, s_base) = port(X), base(X)
    torch.testing.assert_close(y_base, y_port, rtol=0, atol=0)
    torch.testing.assert_close(list(s_base), s_port, rtol=0, atol=0)


def test_baseline_learns(data_file):
    from djl_bridge.baseline import CharLSTM, train
    from djl_bridge.dataset import TimeMachineDataset
    from djl_bridge.text import load_corpus_time_machine

    corpus, vocab = load_corpus_time_machine(data_file, 2000)
    torch.manual_seed(0)
    history = train(CharLSTM(len(vocab), 32, 1), TimeMachineDataset(corpus, 8, 10, offset=0), lr=1, epochs=3)
    perplexities = [p for p, _ in history]
    assert perplexities[-1] < perplexities[0] < len(vocab) * 1.5
    assert all(speed > 0 for _, speed in history)
