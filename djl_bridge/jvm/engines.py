"""The DJL engines the Java side runs on: which build, which process, which native library.

One Maven source tree (``java/``) is built once per DJL version (a Maven profile each):

========================  =========  =============  =============================================
engine                    DJL        build (-P)     native library, process
========================  =========  =============  =============================================
``pytorch``               0.35.1     pytorch        the pip wheel's libtorch 2.7.1 (the port's own
                                                    library files), in a worker process
``pytorch-native``        0.35.1     pytorch        DJL's own libtorch 2.7.1 (``pytorch-native-cpu``),
                                                    in a worker process (no torch there)
``mxnet``                 0.23.0     mxnet          MXNet 1.9.1 (``mxnet-native-mkl``, the notebook's
                                                    own engine), in a worker process
========================  =========  =============  =============================================

DJL extracts the native libraries from their jars into the project's cache folder
(:func:`djl_bridge.jvm.runtime.djl_cache_dir`) the first time, and runs offline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENGINES = ("pytorch", "mxnet", "pytorch-native")
#: The libtorch that DJL 0.35.1's PyTorch engine (and its JNI) is built for.
DJL_LIBTORCH_VERSION = "2.7.1"


@dataclass(frozen=True)
class EngineSpec:
    """One engine; its DJL and native versions live in ``java/pom.xml`` (its profile), nowhere else."""

    name: str
    profile: str  # the Maven profile that builds it
    target: str  # its build folder, relative to java/
    djl_engine: str  # DJL's engine name (Engine.getEngineName())


SPECS: dict[str, EngineSpec] = {
    "pytorch": EngineSpec("pytorch", "pytorch", "target", "PyTorch"),
    "pytorch-native": EngineSpec("pytorch-native", "pytorch", "target", "PyTorch"),
    "mxnet": EngineSpec("mxnet", "mxnet", "target/mxnet", "MXNet"),
}

#: The Maven profiles, each built once by ``djl-parity setup``.
PROFILES = {"pytorch": "target", "mxnet": "target/mxnet"}


def spec(engine: str) -> EngineSpec:
    if engine not in SPECS:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return SPECS[engine]


def thread_budget() -> int:
    """Compute threads for a worker's engine: ``$DJL_PARITY_THREADS`` or every CPU of this process.

    MXNet's OpenMP threads spin-wait; on an oversubscribed CPU its speed collapses, so the worker
    always runs with an explicit budget rather than OpenMP's default.
    """
    env = os.environ.get("DJL_PARITY_THREADS")
    if env:
        return max(1, int(env))
    return max(1, len(os.sched_getaffinity(0)))


def worker_environment(engine: str, cache: Path, threads: int) -> dict[str, str]:
    """Environment variables a worker sets before its JVM loads the engine's native library.

    ``OMP_WAIT_POLICY=PASSIVE``: idle OpenMP threads sleep instead of spinning. Measured on a
    2-core machine while other processes computed (load 6): MXNet on the notebook config ran
    291-334 tokens/s with 2 spinning threads, 2,108-3,623 with 2 passive ones, 1,730-2,241 with 1.
    """
    env = {
        "DJL_CACHE_DIR": str(cache),
        "ENGINE_CACHE_DIR": str(cache),
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "OMP_WAIT_POLICY": "PASSIVE",
    }
    if engine == "pytorch-native":
        env |= {"PYTORCH_VERSION": DJL_LIBTORCH_VERSION, "PYTORCH_FLAVOR": "cpu"}
    return env
