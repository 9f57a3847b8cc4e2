"""Shared fixtures: the real text file, the real JVM with DJL, an NDManager per test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_file() -> Path:
    """The text, found as a user's run finds it: $DJL_PARITY_DATA, the cache, or a download (CI sets the first)."""
    from djl_bridge.data import DataError, resolve_data_file

    try:
        return resolve_data_file()
    except DataError as exc:
        pytest.fail(f"the tests need The Time Machine text: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def jvm():
    """This process's JVM on DJL's PyTorch engine (the tests' only in-process one). torch is imported first:
    the engine turns libtorch's autograd off on the thread that loads it, and the bridge gives Python its
    own mode back only where Python has torch loaded (``jvm/grad_mode.py``)."""
    import torch  # noqa: F401

    from djl_bridge import jvm as bridge

    return bridge.start()


@pytest.fixture
def manager(jvm):
    """A DJL manager of this process's JVM, made inside ``java_call`` (the first one loads DJL's engine, which
    turns libtorch's autograd off on this thread; ``java_call`` gives Python its own mode back)."""
    from djl_bridge.jvm import java_call, jclass

    with java_call():
        m = jclass("ai.djl.ndarray.NDManager").newBaseManager()
    yield m
    with java_call():
        m.close()


def _java_trace(cfg, data, engine: str = "pytorch", **request):
    from djl_bridge.sides import java
    from djl_bridge.trace import Request

    return java.run(Request(cfg.resolved(), str(data), **request), engine)


def _port_trace(cfg, data, **request):
    from djl_bridge.sides import port
    from djl_bridge.trace import Request

    return port.run(Request(cfg.resolved(), str(data), **request))


@pytest.fixture
def java_trace():
    """``java_trace(cfg, data, engine="pytorch", **request)``: our helpers' trace, from a worker process."""
    return _java_trace


@pytest.fixture
def port_trace():
    """``port_trace(cfg, data, **request)``: the port's trace."""
    return _port_trace
