"""One libtorch per process: Python's torch and DJL share the same library files, in either import order."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import sys
    order = sys.argv[1]
    if order == "torch-first":
        import torch
    from djl_bridge import jvm
    from djl_bridge.jvm import to_ndarray, to_numpy
    info = jvm.start()
    import torch
    import numpy as np
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    m = jvm.jclass("ai.djl.ndarray.NDManager").newBaseManager()
    java = to_numpy(to_ndarray(m, a).matMul(to_ndarray(m, a.T.copy())))
    py = (torch.from_numpy(a) @ torch.from_numpy(a).T).numpy()
    assert (java == py).all() and (py == a @ a.T).all()
    maps = [ln.split()[-1] for ln in open("/proc/self/maps") if ln.rstrip().endswith("libtorch_cpu.so")]
    print("libtorch_cpu copies:", len(set(maps)))
    print("same dir:", set(maps) == {info.libtorch_dir + "/libtorch_cpu.so"})
""")


@pytest.mark.parametrize("order", ["torch-first", "jvm-first"])
def test_torch_and_djl_share_one_libtorch(order, jvm):
    proc = subprocess.run([sys.executable, "-c", SCRIPT, order], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "libtorch_cpu copies: 1" in proc.stdout
    assert "same dir: True" in proc.stdout


def test_other_torch_version_is_refused_with_install_hint(monkeypatch):
    import importlib.metadata

    from djl_bridge.jvm import runtime

    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "2.9.0" if name == "torch" else real(name))
    with pytest.raises(runtime.BridgeSetupError) as err:
        runtime.libtorch_policy()
    assert "pip install torch==2.7.1" in str(err.value)
