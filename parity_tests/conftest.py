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
    from djl_bridge import jvm as bridge

    return bridge.start()


@pytest.fixture
def manager(jvm):
    from djl_bridge.jvm import jclass

    m = jclass("ai.djl.ndarray.NDManager").newBaseManager()
    yield m
    m.close()
