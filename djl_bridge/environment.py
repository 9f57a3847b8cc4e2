"""The environment block of a trace: what each side ran on, from the side itself (one home)."""

from __future__ import annotations

import platform
from pathlib import Path


def port_environment(cfg, device) -> dict[str, str]:
    """The PyTorch port in this process."""
    import torch

    return {
        "side": "the PyTorch port",
        "Python": platform.python_version(),
        "torch": f"{torch.__version__} ({Path(torch.__file__).parent / 'lib'})",
        "threads": str(torch.get_num_threads()),
        "device": str(device),
        "mode": cfg.mode,
        "emulates engine": cfg.port_engine,
    }


def jvm_environment(info, what: str) -> dict[str, str]:
    """A JVM side (our helpers, or a notebook in JShell) from the JVM's start information."""
    import os

    return {
        "side": what,
        "Java": info.java_version,
        "DJL": info.djl_version,
        "DJL engine": f"{info.engine} {info.engine_version}",
        "native library": info.libtorch_dir,
        "threads": os.environ.get("OMP_NUM_THREADS", "default"),
        "JVM start": f"{info.started_in_s:.2f} s",
    }
