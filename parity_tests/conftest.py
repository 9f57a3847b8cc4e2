"""Shared fixtures: the real text file, the real JVM with DJL, an NDManager per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_TEXT = Path(__file__).resolve().parents[2] / "shared" / "data" / "timemachine.txt"

# Tests point the data resolver at the shared copy when nothing else is configured
# (these machines reach no host but package registries).
if "DJL_PARITY_DATA" not in os.environ and SHARED_TEXT.is_file():
    os.environ["DJL_PARITY_DATA"] = str(SHARED_TEXT)


@pytest.fixture(scope="session")
def data_file() -> Path:
    from djl_bridge.data import resolve_data_file

    return resolve_data_file()


@pytest.fixture(scope="session")
def jvm():
    from djl_bridge import jvm as bridge

    return bridge.start()


@pytest.fixture
def manager(jvm):
    from djl_bridge.jvm import jclass

    m = jclass("ai.djl.ndarray.NDManager").newBaseManager()
    yield m
    m.close()
