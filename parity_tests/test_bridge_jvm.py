"""The real JVM through JPype: DJL's PyTorch engine on the shared libtorch, exact numpy ⇄ NDArray."""

from __future__ import annotations

import numpy as np
import pytest

from djl_bridge import jvm as bridge


def test_jvm_runs_djl_pytorch_engine_on_the_venv_libtorch(jvm):
    import torch

    assert jvm.engine == "PyTorch"
    assert jvm.engine_version == "2.7.1"
    assert jvm.libtorch_dir == str(jvm.policy.lib_dir)
    assert torch.__version__.split("+")[0] == jvm.engine_version


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (7,), (2, 3, 4)])
def test_ndarray_round_trip_is_bit_identical(manager, dtype, shape):
    rng = np.random.default_rng(0)
    a = np.asarray(rng.standard_normal(shape) * 1000).astype(dtype)
    nd = bridge.to_ndarray(manager, a)
    assert (
        str(nd.getDataType().name())
        == {np.float32: "FLOAT32", np.float64: "FLOAT64", np.int32: "INT32", np.int64: "INT64"}[dtype]
    )
    assert tuple(nd.getShape().getShape()) == shape
    back = bridge.to_numpy(nd)
    assert back.dtype == a.dtype and back.shape == a.shape
    assert back.tobytes() == a.tobytes()


def test_ndarray_owns_its_memory(manager):
    a = np.arange(6, dtype=np.float32)
    nd = bridge.to_ndarray(manager, a)
    a[:] = -1
    assert bridge.to_numpy(nd).tolist() == [0, 1, 2, 3, 4, 5]


def test_java_computes_on_converted_arrays(manager):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    got = bridge.to_numpy(bridge.to_ndarray(manager, a).matMul(bridge.to_ndarray(manager, a.T.copy())))
    np.testing.assert_array_equal(got, a @ a.T)


def test_java_exception_becomes_python_exception_with_stack(manager):
    Shape = bridge.jclass("ai.djl.ndarray.types.Shape")
    with pytest.raises(bridge.JavaError) as err, bridge.java_call():
        manager.ones(Shape(2, 3)).reshape(Shape(7))
    assert err.value.java_class == "ai.djl.engine.EngineException"
    assert "invalid for input of size 6" in err.value.message
    assert "ai.djl.pytorch.jni.JniUtils.reshape" in err.value.stack_trace


def test_java_output_is_captured(jvm):
    System = bridge.jclass("java.lang.System")
    with bridge.capture_java_output() as out:
        System.out.println("to stdout")
        System.err.println("to stderr")
    assert out.lines == ["to stdout"]
    assert out.stderr.strip() == "to stderr"


def test_python_and_java_each_see_their_own_grad_mode(jvm):
    """One libtorch, one thread: DJL rests with grad mode off, PyTorch with it on."""
    import torch

    from djl_bridge.jvm.errors import djl_grad_mode

    JniUtils = bridge.jclass("ai.djl.pytorch.jni.JniUtils")
    assert torch.is_grad_enabled()
    with djl_grad_mode(True):
        assert not JniUtils.isGradMode()
    assert torch.is_grad_enabled()
