"""numpy ⇄ DJL NDArray with dtype, shape and bytes preserved, and no per-element Python loop.

Into Java: numpy's memory is wrapped as a direct ByteBuffer (no copy), DJL wraps that as a
tensor, and libtorch clones it, so the result owns its own memory. Out of Java: the tensor's
bytes as a direct ByteBuffer, read through the buffer protocol and copied once by numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from djl_bridge.jvm.runtime import jclass

_TO_DJL = {
    np.dtype(np.float32): "FLOAT32",
    np.dtype(np.float64): "FLOAT64",
    np.dtype(np.float16): "FLOAT16",
    np.dtype(np.int32): "INT32",
    np.dtype(np.int64): "INT64",
    np.dtype(np.int8): "INT8",
    np.dtype(np.uint8): "UINT8",
    np.dtype(np.bool_): "BOOLEAN",
}
_FROM_DJL = {v: k for k, v in _TO_DJL.items()}


def _shape(dims: tuple[int, ...]) -> Any:
    import jpype

    return jclass("ai.djl.ndarray.types.Shape")(jpype.JArray(jpype.JLong)(list(dims)))


def to_ndarray(manager: Any, array: np.ndarray) -> Any:
    """A new NDArray in ``manager`` equal to ``array`` byte for byte (any shape, 0-d and empty too)."""
    import jpype.nio

    array = np.asarray(array)
    if array.dtype not in _TO_DJL:
        raise TypeError(f"dtype {array.dtype} has no DJL equivalent; supported: {sorted(map(str, _TO_DJL))}")
    DataType = jclass("ai.djl.ndarray.types.DataType")
    dtype = getattr(DataType, _TO_DJL[array.dtype])
    shape = _shape(array.shape)
    if array.size == 0:
        return manager.zeros(shape, dtype)
    flat = np.array(array, order="C", copy=True).reshape(-1)  # keep alive until cloned
    buf = jpype.nio.convertToDirectBuffer(flat.view(np.uint8))
    buf.order(jclass("java.nio.ByteOrder").nativeOrder())
    wrapped = manager.create(buf, shape, dtype)
    try:
        return wrapped.duplicate()
    finally:
        wrapped.close()


def to_numpy(nd: Any) -> np.ndarray:
    """A numpy copy of ``nd`` with its DJL dtype and shape."""
    name = str(nd.getDataType().name())
    if name not in _FROM_DJL:
        raise TypeError(f"DJL dtype {name} has no numpy equivalent")
    dtype = _FROM_DJL[name]
    shape = tuple(int(d) for d in nd.getShape().getShape())
    if int(nd.size()) == 0:
        return np.zeros(shape, dtype=dtype)
    try:
        buf = nd.toByteBuffer(True)  # DJL 0.35: a direct buffer when the engine can give one
    except TypeError:
        buf = nd.toByteBuffer()  # DJL 0.23 (MXNet): the one form it has, a direct buffer too
    return np.frombuffer(memoryview(buf), dtype=dtype).reshape(shape).copy()
