"""A process's memory as a soak reads it: resident set size once the C heap gave back what it does not use,
and the JVM's used heap after a full collection (when this process runs a JVM)."""

from __future__ import annotations

import ctypes


def rss_mib() -> float:
    """VmRSS in MiB after ``malloc_trim(0)``, so that it counts live memory rather than the allocator's cache."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/status") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return kib / 1024


def java_heap_mib() -> float:
    """The JVM's used heap in MiB after ``System.gc()``."""
    from djl_bridge.jvm import jclass

    jclass("java.lang.System").gc()
    runtime = jclass("java.lang.Runtime").getRuntime()
    return (int(runtime.totalMemory()) - int(runtime.freeMemory())) / 2**20
