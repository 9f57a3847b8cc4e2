"""The one message format between the parent and a worker process (``sides/worker.py``).

A message is a pair of files in the run's private folder (mode 0700, made by the parent):

``NAME.json``
    UTF-8 JSON: ``{"format": "djl-parity/wire/1", "body": <JSON value>, "arrays": [...]}``.
    In ``body``, every numpy array is replaced by ``{"$array": KEY}``; ``arrays`` lists each
    array once as ``{"key", "dtype", "shape", "offset", "nbytes"}`` (dtype as numpy's ``str``,
    e.g. ``"<f4"``; little-endian as stored on this machine).
``NAME.bin``
    The arrays' raw C-order bytes, each starting at its ``offset`` (64-byte aligned), no header.

Dataclasses (a Request, a Trace and the dataclasses inside them) travel as their fields; the
reader rebuilds them from the class's type hints (:func:`rebuild`). Besides these messages, the
worker writes one JSON object per line on an event pipe (``{"event": "epoch", ...}``, ``"done"``,
``"error"``); see ``worker_main``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "djl-parity/wire/1"
_ALIGN = 64


def _encode(value: Any, arrays: dict[str, np.ndarray], key: str) -> Any:
    if isinstance(value, np.ndarray):
        arrays[key] = value if value.flags.c_contiguous else value.copy(order="C")  # keeps 0-d arrays 0-d
        return {"$array": key}
    if isinstance(value, np.generic):
        return _encode(np.asarray(value), arrays, key)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name), arrays, f"{key}/{f.name}") for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _encode(v, arrays, f"{key}/{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, arrays, f"{key}/{i}") for i, v in enumerate(value)]
    return value


def digest(value: Any) -> str:
    """A SHA-256 over a value as this format encodes it: its JSON body, and every array's dtype, shape and bytes."""
    arrays: dict[str, np.ndarray] = {}
    h = hashlib.sha256(json.dumps(_encode(value, arrays, ""), sort_keys=True, default=str).encode())
    for key, a in arrays.items():
        h.update(f"{key}:{a.dtype.str}:{a.shape}".encode())
        h.update(memoryview(a).cast("B") if a.size else b"")
    return h.hexdigest()


def write(folder: Path, name: str, body: Any) -> int:
    """Write message ``name`` into ``folder``; returns the number of array bytes written."""
    arrays: dict[str, np.ndarray] = {}
    encoded = _encode(body, arrays, "")
    manifest, offset = [], 0
    with open(folder / f"{name}.bin", "wb") as out:
        for key, a in arrays.items():
            pad = -offset % _ALIGN
            out.write(b"\0" * pad)
            offset += pad
            out.write(memoryview(a).cast("B") if a.size else b"")
            manifest.append(
                {"key": key, "dtype": a.dtype.str, "shape": list(a.shape), "offset": offset, "nbytes": a.nbytes}
            )
            offset += a.nbytes
    tmp = folder / f".{name}.json.tmp"
    tmp.write_text(json.dumps({"format": FORMAT, "body": encoded, "arrays": manifest}))
    tmp.replace(folder / f"{name}.json")  # the .json appears only when the message is whole
    return offset


def _decode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$array"}:
            return arrays[value["$array"]]
        return {k: _decode(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    return value


def read(folder: Path, name: str) -> Any:
    """Read message ``name`` from ``folder``: its body with every array back in place (views of one read buffer)."""
    doc = json.loads((folder / f"{name}.json").read_text())
    if doc.get("format") != FORMAT:
        raise ValueError(f"{folder / name}.json is not a {FORMAT} message")
    raw = np.fromfile(folder / f"{name}.bin", dtype=np.uint8)
    arrays = {}
    for a in doc["arrays"]:
        chunk = raw[a["offset"] : a["offset"] + a["nbytes"]]
        arrays[a["key"]] = chunk.view(np.dtype(a["dtype"])).reshape(a["shape"])
    return _decode(doc["body"], arrays)


def rebuild(kind: Any, value: Any) -> Any:
    """A decoded body as ``kind``: dataclasses (rebuilt from their type hints, recursively), ``list[...]``,
    ``dict[str, ...]``, ``tuple[...]`` and ``X | None``; anything else as it came."""
    if value is None:
        return None
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(
            **{f.name: rebuild(hints[f.name], value[f.name]) for f in dataclasses.fields(kind) if f.name in value}
        )
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return rebuild(options[0], value) if len(options) == 1 else value
    if origin is list:
        return [rebuild(args[0], v) for v in value]
    if origin is tuple and args and args[-1] is Ellipsis:
        return tuple(rebuild(args[0], v) for v in value)
    if origin is tuple:
        return tuple(rebuild(a, v) for a, v in zip(args, value)) if args else tuple(value)
    if origin is dict:
        return {k: rebuild(args[1], v) for k, v in value.items()}
    return value
