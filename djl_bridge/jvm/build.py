"""Building the Java side with Maven, idempotently: a stamp of the inputs skips an up-to-date build.

One source tree, one build per Maven profile (``jvm/engines.py``: DJL 0.35.1 for the PyTorch
engines, DJL 0.23.0 for MXNet), each in its own folder with its own stamp and classpath file.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from djl_bridge.jvm.engines import PROFILES
from djl_bridge.jvm.runtime import JAR_NAME, BridgeSetupError, java_dir

STAMP = ".djl-parity-build-stamp"


def _inputs_digest(project: Path) -> str:
    digest = hashlib.sha256()
    files = [project / "pom.xml", *sorted((project / "src").rglob("*"))]
    for f in files:
        if f.is_file():
            digest.update(str(f.relative_to(project)).encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()


def is_up_to_date(project: Path | None = None, profile: str | None = None) -> bool:
    """True when the build of ``profile`` (every profile when None) matches the sources."""
    project = project or java_dir()
    if profile is None:
        return all(is_up_to_date(project, p) for p in PROFILES)
    target = project / PROFILES[profile]
    stamp = target / STAMP
    return (
        (target / JAR_NAME).is_file()
        and (target / "classpath.txt").is_file()
        and stamp.is_file()
        and stamp.read_text() == _inputs_digest(project)
    )


def build(project: Path | None = None, force: bool = False, quiet: bool = True) -> bool:
    """Run ``mvn -P <profile> package`` for each profile whose jar is stale; True when a build ran."""
    project = project or java_dir()
    stale = [p for p in PROFILES if force or not is_up_to_date(project, p)]
    if not stale:
        return False
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BridgeSetupError("Maven (mvn) is not on PATH. Install Maven 3.8+ (e.g. apt-get install maven).")
    if shutil.which("java") is None:
        raise BridgeSetupError("java is not on PATH. Install a JDK 17+ (e.g. apt-get install openjdk-17-jdk).")
    for profile in stale:
        cmd = [mvn, "-B", "-P", profile, "package", "-DskipTests"] + (["-q"] if quiet else [])
        proc = subprocess.run(cmd, cwd=project, capture_output=quiet, text=True)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:]) if quiet else ""
            raise BridgeSetupError(f"`{' '.join(cmd)}` failed in {project} (exit {proc.returncode}).\n{tail}")
        (project / PROFILES[profile] / STAMP).write_text(_inputs_digest(project))
    return True
