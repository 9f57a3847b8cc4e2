"""Ctrl-C and SIGTERM sent to a real `djl-parity` process while either side trains."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

LONG = [
    "--device",
    "cpu",
    "--model",
    "lstm",
    "--hidden",
    "16",
    "--max-tokens",
    "1500",
    "--batch-size",
    "4",
    "--epochs",
    "10000",
    "--offset",
    "0",
]


def _interrupt_after_training_starts(
    args: list[str], sig: int, cwd: Path, ready: str = ": epoch 1/", stream: str = "stderr"
) -> tuple[subprocess.CompletedProcess, float]:
    """Start the CLI, wait until ``ready`` shows on ``stream`` (by default: an epoch's progress line), then send
    ``sig``; the result and the seconds from the signal to the process's end."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "djl_bridge.cli", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        watched, seen, deadline = getattr(proc, stream), "", time.monotonic() + 180
        while ready not in seen and time.monotonic() < deadline and proc.poll() is None:
            if select.select([watched], [], [], 1.0)[0]:
                seen += os.read(watched.fileno(), 4096).decode(errors="replace")
        assert ready in seen, f"never saw {ready!r}: {seen[-1000:]}"
        time.sleep(0.5)  # well into what runs next
        proc.send_signal(sig)
        t0 = time.monotonic()
        out, err = proc.communicate(timeout=120)
        took = time.monotonic() - t0
        if stream == "stdout":
            return subprocess.CompletedProcess(proc.args, proc.returncode, seen + out, err), took
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, seen + err), took
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize(
    "command",
    [["train", "--impl", "python"], ["train", "--impl", "djl"], ["compare", "--engine", "pytorch"], ["compare"]],
    ids=["train-python", "train-djl", "compare-pytorch", "compare-mxnet"],
)
def test_an_interrupt_exits_128_plus_signal_within_2_s_with_one_line_and_nothing_written(command, sig, tmp_path):
    result, took = _interrupt_after_training_starts([*command, "--out", "out", *LONG], sig, tmp_path)
    assert result.returncode == 128 + sig, result.stderr[-2000:]
    assert took < 2.0, f"the process took {took:.1f} s to stop"
    last = result.stderr.strip().splitlines()[-1]
    assert last.endswith(f"djl-parity: stopped by {signal.Signals(sig).name}; no output was written"), last
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == [], "no output folder, staging folder or hs_err crash report"


#: A notebook whose second cell computes in DJL until it is stopped (the first says it is about to start).
ENDLESS = """NDManager manager = NDManager.newBaseManager();
System.out.println("computing");
// %%
NDArray x = manager.randomNormal(new Shape(256, 256));
while (true) {
    try (NDManager sub = manager.newSubManager()) {
        NDArray y = x.duplicate();
        y.attach(sub);
        y.matMul(x).sum().getFloat();
    }
}
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("engine", ["pytorch", "mxnet"])
def test_an_interrupt_during_a_notebook_cell_exits_128_plus_signal_within_2_s_with_nothing_written(
    engine, sig, tmp_path
):
    (tmp_path / "endless.jsh").write_text("import ai.djl.ndarray.*;\nimport ai.djl.ndarray.types.*;\n" + ENDLESS)
    args = ["notebook", "endless.jsh", "--engine", engine, "--out", "out"]
    result, took = _interrupt_after_training_starts(args, sig, tmp_path, "computing", "stdout")
    assert result.returncode == 128 + sig, result.stderr[-2000:]
    assert took < 2.0, f"the process took {took:.1f} s to stop"
    last = result.stderr.strip().splitlines()[-1]
    assert last.endswith(f"djl-parity: stopped by {signal.Signals(sig).name}; no output was written"), last
    assert sorted(p.name for p in tmp_path.iterdir()) == ["endless.jsh"], "no output, staging folder or crash report"
