"""Where *The Time Machine* text comes from: explicit path > ``DJL_PARITY_DATA`` > user cache > download.

Every source is checked against the SHA-1 of the file the D2L books use, so both sides of a
comparison always read the same bytes. The other D2L data files the recurrent chapters' notebooks
open (:data:`D2L_FILES`) are served offline only from a local copy the user names
(``--data-file URL=PATH``), checked the same way.
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
_TEXT = "The Time Machine text the D2L books use"
#: The D2L data files the recurrent chapters' notebooks open: URL -> (SHA-1, size in bytes). The D2L
#: data hub publishes SHA-1s only; a size is given where the file is known here (None: not checked).
D2L_FILES: dict[str, tuple[str, int | None]] = {
    DATA_URL: (DATA_SHA1, DATA_BYTES),
    "http://d2l-data.s3-accelerate.amazonaws.com/fra-eng.zip": ("94646ad1522d915e7b0f9296181140edcf86a4f5", None),
}


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


def _checked(path: Path, origin: str, sha1: str = DATA_SHA1, size: int | None = DATA_BYTES, what: str = _TEXT) -> Path:
    if not path.is_file():
        raise DataError(f"{origin} names {path}, which is not a file.")
    found_size = path.stat().st_size
    if size is not None and found_size != size:
        raise DataError(
            f"{origin} {path} is not {what}: it has {found_size:,} bytes, "
            f"the file has {size:,} (SHA-1 {sha1}). Refusing to use it."
        )
    try:
        found = sha1_of(path)
    except OSError as exc:
        raise DataError(f"{origin} {path} cannot be read: {exc.strerror}.") from None
    if found != sha1:
        raise DataError(f"{origin} {path} is not {what}: SHA-1 expected {sha1}, found {found}. Refusing to use it.")
    return path.resolve()


def _address(url: str) -> str:
    """A URL without its scheme: the D2L host answers http and https alike."""
    return url.split("://", 1)[-1]


def known_data_url(url: str) -> str | None:
    """The entry of :data:`D2L_FILES` for ``url`` (http or https), or None."""
    return next((u for u in D2L_FILES if _address(u) == _address(url.strip())), None)


def supplied_data_file(option: str) -> tuple[str, Path]:
    """A ``--data-file URL=PATH`` value as (the table's URL, the checked file); :class:`DataError` otherwise."""
    url, sep, path = option.partition("=")
    if not sep or not url.strip() or not path:
        raise DataError(f"--data-file {option}: expected URL=PATH")
    known = known_data_url(url)
    if known is None:
        raise DataError(
            f"--data-file {url.strip()}: not a D2L data file djl-parity knows (it serves {', '.join(D2L_FILES)})"
        )
    sha1, size = D2L_FILES[known]
    name = known.rsplit("/", 1)[-1]
    return known, _checked(Path(path), f"--data-file {known}", sha1, size, f"the D2L data hub's {name}")


def unserved(url: str) -> str:
    """Why the notebook could not open ``url`` offline, and the option that supplies it."""
    known = known_data_url(url)
    if known is not None:
        return (
            f"the notebook opens {url}, which djl-parity does not have offline: supply a copy with "
            f"--data-file {known}=PATH (SHA-1 {D2L_FILES[known][0]})"
        )
    return (
        f"the notebook opens {url}; djl-parity runs notebooks offline, and --data-file supplies only "
        f"the D2L data files it knows ({', '.join(D2L_FILES)})"
    )


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
