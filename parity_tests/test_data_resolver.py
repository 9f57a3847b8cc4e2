"""The data resolver: explicit path > env var > cache > download, always SHA-1 checked."""

from __future__ import annotations

import shutil

import pytest

from djl_bridge.data import DATA_ENV, DATA_SHA1, DataError, resolve_data_file, sha1_of


def test_good_file_resolves_from_explicit_path(data_file, tmp_path):
    copy = tmp_path / "tm.txt"
    shutil.copy(data_file, copy)
    assert resolve_data_file(copy) == copy.resolve()
    assert sha1_of(copy) == DATA_SHA1


def test_env_var_then_cache_order(data_file, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(DATA_ENV, str(data_file))
    assert resolve_data_file() == data_file.resolve()
    monkeypatch.delenv(DATA_ENV)
    cached = tmp_path / "cache" / "djl-parity" / "timemachine.txt"
    cached.parent.mkdir(parents=True)
    shutil.copy(data_file, cached)
    assert resolve_data_file() == cached.resolve()


def test_missing_file_offline_says_how_to_provide_it(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(DATA_ENV, raising=False)
    with pytest.raises(DataError) as err:
        resolve_data_file(url="http://127.0.0.1:9/timemachine.txt", timeout=2)
    msg = str(err.value)
    assert "--data PATH" in msg and DATA_ENV in msg and DATA_SHA1 in msg
    assert not list((tmp_path / "cache" / "djl-parity").glob("*")), "no partial download left behind"


def test_corrupted_file_is_refused_with_both_hashes(data_file, tmp_path):
    bad = tmp_path / "tm.txt"
    content = bytearray(data_file.read_bytes())
    content[1000] ^= 0x20
    bad.write_bytes(bytes(content))
    with pytest.raises(DataError) as err:
        resolve_data_file(bad)
    assert DATA_SHA1 in str(err.value) and sha1_of(bad) in str(err.value)
