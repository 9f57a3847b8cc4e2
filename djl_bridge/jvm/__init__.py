"""The Python face of the JVM: lifecycle, numpy ⇄ NDArray, Java errors and output, the DJL side's calls."""

from djl_bridge.jvm.convert import to_ndarray, to_numpy
from djl_bridge.jvm.errors import JavaError, JavaOutput, capture_java_output, java_call
from djl_bridge.jvm.runtime import BridgeSetupError, JvmInfo, classpath, jclass, libtorch_policy, start

__all__ = [
    "BridgeSetupError",
    "JavaError",
    "JavaOutput",
    "JvmInfo",
    "capture_java_output",
    "classpath",
    "jclass",
    "java_call",
    "libtorch_policy",
    "start",
    "to_ndarray",
    "to_numpy",
]
