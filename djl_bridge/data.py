"""Where *The Time Machine* text comes from: explicit path > ``DJL_PARITY_DATA`` > user cache > download.

Every source is checked against the SHA-1 of the file the D2L books use, so both sides of a
comparison always read the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

DATA_URL = "http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt"
DATA_SHA1 = "090b5e7e70c295757f55df93cb0a180b9691891a"
DATA_BYTES = 178_979
DATA_ENV = "DJL_PARITY_DATA"
FILE_NAME = "timemachine.txt"


class DataError(RuntimeError):
    """The text file cannot be provided; the message says how to fix it."""


def cache_dir() -> Path:
    """The user cache folder of djl-parity (``$XDG_CACHE_HOME/djl-parity`` or ``~/.cache/djl-parity``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "djl-parity"


def sha1_of(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _checked(path: Path, origin: str) -> Path:
    if not path.is_file():
        raise DataError(f"{origin} names {path}, which is not a file.")
    size = path.stat().st_size
    if size != DATA_BYTES:
        raise DataError(
            f"{origin} {path} is not The Time Machine text the D2L books use: it has {size:,} bytes, "
            f"the text has {DATA_BYTES:,} (SHA-1 {DATA_SHA1}). Refusing to use it."
        )
    try:
        found = sha1_of(path)
    except OSError as exc:
        raise DataError(f"{origin} {path} cannot be read: {exc.strerror}.") from None
    if found != DATA_SHA1:
        raise DataError(
            f"{origin} {path} is not The Time Machine text the D2L books use: "
            f"SHA-1 expected {DATA_SHA1}, found {found}. Refusing to use it."
        )
    return path.resolve()


def _download(target: Path, url: str, timeout: float) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".download-")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            out.write(resp.read())
        _checked(Path(tmp), "The download from")
        os.replace(tmp, target)
    except (urllib.error.URLError, OSError) as exc:
        raise DataError(
            f"The Time Machine text is not available: no --data path was given, {DATA_ENV} is "
            f"not set, there is no {target}, and downloading {url} failed ({exc}). "
            f"Provide the file ({DATA_BYTES:,} bytes, SHA-1 {DATA_SHA1}) with --data PATH, or set "
            f"{DATA_ENV}=PATH, or copy it to {target}."
        ) from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target.resolve()


def resolve_data_file(
    path: str | os.PathLike[str] | None = None, *, download: bool = True, url: str = DATA_URL, timeout: float = 20.0
) -> Path:
    """Return the checked path of the text: ``path``, else ``$DJL_PARITY_DATA``, else the cache, else a download."""
    if path is not None:
        return _checked(Path(path), "--data")
    env = os.environ.get(DATA_ENV)
    if env:
        return _checked(Path(env), DATA_ENV)
    cached = cache_dir() / FILE_NAME
    if cached.is_file():
        return _checked(cached, "The cached file")
    if not download:
        raise DataError(f"No text file: pass --data PATH, set {DATA_ENV}, or place it at {cached}.")
    return _download(cached, url, timeout)


def data_status(path: str | os.PathLike[str] | None = None) -> tuple[bool, str]:
    """(ok, one-line description) of the data file without downloading anything."""
    try:
        found = resolve_data_file(path, download=False)
    except DataError as exc:
        return False, str(exc)
    return True, f"{found} (SHA-1 ok)"
