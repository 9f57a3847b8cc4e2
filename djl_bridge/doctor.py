"""`djl-parity doctor`: every part the tool needs, checked for real, as a list of findings."""

from __future__ import annotations

import platform
import shutil
import subprocess
from dataclasses import asdict, dataclass


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True


def _version_line(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"failed: {exc}"
    out = (proc.stdout + proc.stderr).strip().splitlines()
    return out[0] if out else f"exit {proc.returncode}"


def run_checks(data: str | None = None) -> list[Check]:
    """Python, torch, CUDA, Java, Maven, the Java build, DJL's engine and its libtorch, the data file."""
    from djl_bridge import jvm
    from djl_bridge.data import data_status
    from djl_bridge.jvm.build import is_up_to_date

    checks = [Check("python", True, platform.python_version())]
    try:
        import torch

        checks.append(Check("torch", True, f"{torch.__version__} ({torch.__file__})"))
        cuda = torch.cuda.is_available()
        checks.append(
            Check("cuda", cuda, torch.cuda.get_device_name(0) if cuda else "not available (CPU only)", required=False)
        )
    except ImportError as exc:
        checks.append(Check("torch", False, f"not importable: {exc}"))
    for tool, cmd in (("java", ["java", "-version"]), ("maven", ["mvn", "-v"])):
        found = shutil.which(cmd[0])
        checks.append(Check(tool, found is not None, _version_line(cmd) if found else f"{cmd[0]} not on PATH"))
    checks.append(
        Check(
            "java build",
            is_up_to_date(),
            str(jvm.runtime.java_dir() / "target" / jvm.runtime.JAR_NAME)
            if is_up_to_date()
            else "missing or stale: run `djl-parity setup`",
        )
    )
    checks += _pytorch_engine()
    checks += engine_checks()
    ok, detail = data_status(data)
    checks.append(Check("data", ok, detail))
    return checks


def _pytorch_engine() -> list[Check]:
    """The required engine, DJL's PyTorch engine on this environment's libtorch, started for real in a worker."""
    from djl_bridge.jvm import BridgeSetupError
    from djl_bridge.jvm.runtime import libtorch_policy, preflight
    from djl_bridge.sides import worker

    try:
        preflight("pytorch")
        s = worker.engine_status("pytorch")
    except BridgeSetupError as exc:
        return [Check("jvm", False, str(exc).splitlines()[0])]
    lib = libtorch_policy().lib_dir
    return [
        Check("jvm", True, f"started in a worker process in {s.spawn_to_started_s:.2f} s (JVM {s.jvm_s:.2f} s)"),
        Check("djl", True, f"DJL {s.djl}, engine PyTorch {s.engine_version}"),
        Check("libtorch", s.native.startswith(str(lib)), f"{s.native} (the port's torch/lib: {lib})"),
    ]


def engine_checks() -> list[Check]:
    """The other engines started for real in a worker process each (optional)."""
    from djl_bridge.jvm import BridgeSetupError
    from djl_bridge.jvm.build import is_up_to_date
    from djl_bridge.jvm.engines import SPECS
    from djl_bridge.sides import worker

    out = []
    for name, spec in SPECS.items():
        if name == "pytorch":
            continue
        if not is_up_to_date(profile=spec.profile):
            out.append(Check(f"engine {name}", False, "build missing or stale: run `djl-parity setup`", required=False))
            continue
        try:
            s = worker.engine_status(name)
            out.append(
                Check(
                    f"engine {name}",
                    True,
                    f"DJL {s.djl}, {s.engine_version}, {s.native}; worker ready in {s.spawn_to_started_s:.1f} s",
                    required=False,
                )
            )
        except BridgeSetupError as exc:
            out.append(Check(f"engine {name}", False, str(exc).splitlines()[0], required=False))
    return out


def as_json(checks: list[Check]) -> dict:
    return {"ok": all(c.ok for c in checks if c.required), "checks": [asdict(c) for c in checks]}
