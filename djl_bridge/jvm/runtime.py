"""The JVM's lifecycle: the Maven-built classpath, the one-libtorch policy, start once per process.

JPype can start one JVM per process and never restart it, so :func:`start` is idempotent and
every caller goes through it. DJL runs offline and its PyTorch engine is pointed at the very
``torch/lib`` folder of the Python environment's torch 2.7.1, so Python and Java share one
libtorch (same files, same kernels) in one process, whichever of the two loads it first.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import time
from dataclasses import dataclass
from pathlib import Path

from djl_bridge.jvm.engines import DJL_LIBTORCH_VERSION, spec, thread_budget, worker_environment

JAVA_DIR_ENV = "DJL_PARITY_JAVA_DIR"
JAR_NAME = "djl-parity-java.jar"


class BridgeSetupError(RuntimeError):
    """The JVM side cannot start; the message says exactly what to do."""


def java_dir() -> Path:
    """The Maven project (``$DJL_PARITY_JAVA_DIR`` or ``java/`` beside the package)."""
    env = os.environ.get(JAVA_DIR_ENV)
    return Path(env) if env else Path(__file__).resolve().parents[2] / "java"


def classpath(engine: str = "pytorch") -> list[str]:
    """Our jar and DJL's jars for ``engine``, as listed by its Maven build (``djl-parity setup``)."""
    target = java_dir() / spec(engine).target
    jar, listing = target / JAR_NAME, target / "classpath.txt"
    if not jar.is_file() or not listing.is_file():
        raise BridgeSetupError(
            f"The Java side for engine {engine} is not built ({jar} or {listing} is missing). Run `djl-parity setup`."
        )
    entries = [str(jar)] + [p for p in listing.read_text().strip().split(os.pathsep) if p]
    missing = [p for p in entries if not os.path.exists(p)]
    if missing:
        raise BridgeSetupError(f"Jar {missing[0]} is gone from the Maven repository. Run `djl-parity setup`.")
    return entries


@dataclass(frozen=True)
class LibtorchPolicy:
    """How the JVM gets its libtorch: shared with Python's torch (the only mode that starts)."""

    mode: str
    lib_dir: Path
    torch_version: str


def libtorch_policy() -> LibtorchPolicy:
    """Share Python's libtorch when it is the build DJL expects; otherwise refuse, saying what to install.

    Two libtorch copies with the same library names in one process crash or compute garbage,
    so a torch other than 2.7.1 is refused before the JVM starts (see README, "One libtorch").
    """
    try:
        version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        raise BridgeSetupError(
            f"torch is not installed; the bridge needs torch=={DJL_LIBTORCH_VERSION} "
            f"(pip install torch=={DJL_LIBTORCH_VERSION})."
        ) from None
    if version.split("+")[0] != DJL_LIBTORCH_VERSION:
        raise BridgeSetupError(
            f"torch {version} is installed, but DJL's PyTorch engine runs libtorch "
            f"{DJL_LIBTORCH_VERSION} and both must share one libtorch in this process. "
            f"Install it with: pip install torch=={DJL_LIBTORCH_VERSION}"
        )
    spec = importlib.util.find_spec("torch")
    assert spec is not None and spec.origin is not None
    lib_dir = Path(spec.origin).parent / "lib"
    if not (lib_dir / "libtorch.so").is_file():
        raise BridgeSetupError(f"torch {version} has no {lib_dir / 'libtorch.so'}; reinstall torch.")
    return LibtorchPolicy("shared", lib_dir, version)


def djl_cache_dir() -> Path:
    from djl_bridge.data import cache_dir

    return cache_dir() / "djl"


@dataclass(frozen=True)
class JvmInfo:
    started_in_s: float
    engine: str
    engine_version: str
    djl_version: str
    libtorch_dir: str
    java_version: str
    policy: LibtorchPolicy | None
    choice: str = "pytorch"  # the engine as chosen (see jvm/engines.py)


_info: JvmInfo | None = None


def _djl_settings(policy: LibtorchPolicy) -> dict[str, str]:
    cache = str(djl_cache_dir())
    return {
        "PYTORCH_LIBRARY_PATH": str(policy.lib_dir),
        "PYTORCH_VERSION": DJL_LIBTORCH_VERSION,
        "PYTORCH_FLAVOR": "cpu",  # the JNI build with the C++11 ABI, as the PyPI wheel
        "DJL_CACHE_DIR": cache,
        "ENGINE_CACHE_DIR": cache,
    }


def _jvm_options(settings: dict[str, str]) -> list[str]:
    return [f"-D{k}={v}" for k, v in settings.items()] + [
        "-Dai.djl.offline=true",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
        # trainCh8 leaves its Model to the garbage collector, as the notebook does; keep that quiet
        "-Dorg.slf4j.simpleLogger.log.ai.djl.BaseModel=error",
        "-Xss8m",
        # the notebook recorder installs its hooks into DJL by attaching to this JVM (notebook/recorded.py)
        "-Djdk.attach.allowAttachSelf=true",
    ]


def shell_exports() -> str:
    """The bridge's JVM settings as shell exports, for running the Java side by hand (scripts/djl-env.sh)."""
    import shlex

    settings = _djl_settings(libtorch_policy())
    lines = [f"export {k}={shlex.quote(v)}" for k, v in settings.items()]
    lines.append(f"export DJL_CLASSPATH={shlex.quote(os.pathsep.join(classpath()))}")
    lines.append(f"export DJL_JAVA_OPTS={shlex.quote(' '.join(_jvm_options(settings)))}")
    return "\n".join(lines)


def _jvm_library() -> str:
    """The JVM to load: ``$JAVA_HOME``'s when it is set (and nothing else), else the one JPype finds."""
    import jpype

    home = os.environ.get("JAVA_HOME")
    if home:
        found = next(
            (
                p
                for p in (
                    Path(home) / "lib" / "server" / "libjvm.so",
                    Path(home) / "jre" / "lib" / "server" / "libjvm.so",
                )
                if p.is_file()
            ),
            None,
        )
        if found is None:
            raise BridgeSetupError(
                f"JAVA_HOME={home} holds no JVM (no lib/server/libjvm.so). Point JAVA_HOME "
                "at a JDK 17+ (Debian: apt-get install openjdk-17-jdk) or unset it."
            )
        return str(found)
    try:
        return jpype.getDefaultJVMPath()
    except jpype.JVMNotFoundException:
        raise BridgeSetupError(
            "No Java runtime found. Install a JDK 17+ (Debian: apt-get install openjdk-17-jdk) or set JAVA_HOME."
        ) from None


def current_engine() -> str | None:
    """The engine this process's JVM runs (None before :func:`start`)."""
    return None if _info is None else _info.choice


def preflight(engine: str) -> None:
    """What :func:`start` needs for ``engine``, checked without starting anything: the Maven build, a JVM,
    and for ``pytorch`` this environment's torch 2.7.1. :class:`BridgeSetupError` says what is missing."""
    classpath(engine)
    _jvm_library()
    if engine == "pytorch":
        libtorch_policy()


def _start_jvm(jvm_path: str, options: list[str], cp: list[str]) -> float:
    """Start the JVM; the seconds it took."""
    import jpype

    t0 = time.perf_counter()
    try:
        # -Xrs and interrupt=False: SIGINT and SIGTERM stay with Python (djl_bridge/signals.py), so the
        # JVM never runs its exit sequence (and DJL's shutdown hook) under a running libtorch op
        jpype.startJVM(jvm_path, *options, "-Xrs", classpath=cp, convertStrings=False, interrupt=False)
    except OSError as exc:
        raise BridgeSetupError(f"Java could not start ({exc}). Install a JDK 17+ and set JAVA_HOME.") from exc
    return time.perf_counter() - t0


def start(engine: str | None = None) -> JvmInfo:
    """Start the JVM once (later calls return the same info) and load DJL's engine.

    Runs in a worker process (``worker_main.py``) for every engine; ``pytorch`` points DJL at
    this environment's own torch/lib (the port's library files), so in-process use (the tests') shares
    one libtorch with Python's torch. The thread budget comes from ``$DJL_PARITY_THREADS``.
    """
    global _info
    if _info is not None:
        if engine is not None and engine != _info.choice:
            raise BridgeSetupError(f"this process's JVM runs engine {_info.choice}; {engine} needs a worker")
        return _info
    engine = engine or "pytorch"
    import jpype

    if jpype.isJVMStarted():
        raise BridgeSetupError("A JVM was started outside djl_bridge; the bridge cannot configure it.")
    policy = libtorch_policy() if engine == "pytorch" else None
    cp = classpath(engine)
    settings = worker_environment(engine, djl_cache_dir(), thread_budget())
    if policy is not None:
        settings |= _djl_settings(policy)
    else:
        os.environ.pop("PYTORCH_LIBRARY_PATH", None)  # this engine loads its own native library
    os.environ.update(settings)  # DJL reads the environment before system properties
    options = _jvm_options(settings) + (
        [f"-XX:ErrorFile={os.environ['DJL_PARITY_JVM_ERROR_FILE']}"]
        if os.environ.get("DJL_PARITY_JVM_ERROR_FILE")
        else []
    )
    started = _start_jvm(_jvm_library(), options, cp)
    import jpype.imports  # noqa: F401  (enables `from ai.djl ... import`)

    from djl_bridge.jvm.grad_mode import djl_grad_mode

    try:
        with djl_grad_mode(engine == "pytorch"):  # DJL's engine turns libtorch's grad mode off as it loads
            djl = jpype.JClass("ai.djl.engine.Engine").getInstance()
        native = (
            str(jpype.JClass("ai.djl.pytorch.jni.LibUtils").getLibtorchPath())
            if engine != "mxnet"
            else str(jpype.JClass("ai.djl.mxnet.jna.LibUtils").getLibName())
        )
    except Exception:
        _info = None
        raise
    _info = JvmInfo(
        started_in_s=started,
        engine=str(djl.getEngineName()),
        engine_version=str(djl.getVersion()),
        djl_version=str(djl.getDjlVersion()),
        libtorch_dir=native,
        java_version=str(jpype.JClass("java.lang.System").getProperty("java.version")),
        policy=policy,
        choice=engine,
    )
    return _info


def jclass(name: str):
    """A Java class by its full name (starts the JVM if needed)."""
    start()
    import jpype

    return jpype.JClass(name)
