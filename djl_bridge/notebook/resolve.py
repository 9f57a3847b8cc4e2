"""The artifacts a notebook loads from Maven Central (``%maven``, ``%%loadFromPOM``), resolved by Maven.

Maven resolves them with their dependencies (``dependency:list`` on a generated POM) into its
local repository. The result, each artifact's coordinate and jar, is cached under the tool's cache
folder, keyed by what was asked for, so that a second run, or a worker that builds the plan again,
runs no Maven at all. Artifacts the engine sides supply (:data:`~djl_bridge.notebook.maven.SUPPLIED`,
such as the slf4j-api that Tablesaw's template engine asks for) stay the side's own: they are left
off the notebook's class path.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from djl_bridge.data import cache_dir
from djl_bridge.notebook.maven import SUPPLIED, MavenLine

FORMAT = "djl-parity/maven-resolution/1"
PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
MAVEN_TIMEOUT_S = 900
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_PROJECT = "djl-parity:notebook-dependencies:jar:1"


class DependencyError(RuntimeError):
    """A requested artifact cannot be resolved: a missing part of the environment (one line, exit 3)."""


@dataclass(frozen=True)
class Artifact:
    """One resolved artifact: ``group:artifact:version`` (with extension and classifier when it has one) and its jar."""

    coordinate: str
    jar: str

    @property
    def key(self) -> str:
        return ":".join(self.coordinate.split(":")[:2])


@dataclass(frozen=True)
class Classpath:
    """What the notebook asked Maven for, and what goes on its shell's class path, in Maven's order."""

    requested: tuple[str, ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    supplied: tuple[str, ...] = ()  # resolved, but the engine side's own version runs

    @property
    def jars(self) -> list[str]:
        return [a.jar for a in self.artifacts]

    def note(self) -> str | None:
        """The versions Maven resolved, as one line (None when nothing was asked for)."""
        if not self.requested:
            return None
        text = f"Maven resolved {', '.join(self.requested)}: {', '.join(a.coordinate for a in self.artifacts)}"
        if self.supplied:
            text += f" (left to the engine side, which supplies its own: {', '.join(self.supplied)})"
        return text


def resolve(lines: list[MavenLine]) -> Classpath:
    """The class path for ``lines``: from the cache when every jar is still there, else by Maven (then cached)."""
    if not lines:
        return Classpath()
    requested = tuple(sorted({str(ln) for ln in lines}))
    digest = hashlib.sha1(json.dumps([FORMAT, requested]).encode()).hexdigest()[:16]
    cached = cache_dir() / "maven" / f"{digest}.json"
    found = _read_cache(cached, requested)
    if found is not None:
        return found
    resolved = _run_maven(lines)
    classpath = Classpath(
        requested,
        tuple(a for a in resolved if a.key not in SUPPLIED),
        tuple(a.coordinate for a in resolved if a.key in SUPPLIED),
    )
    _write_cache(cached, classpath)
    return classpath


def _read_cache(path: Path, requested: tuple[str, ...]) -> Classpath | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc["format"] != FORMAT or tuple(doc["requested"]) != requested:
            return None
        artifacts = tuple(Artifact(a["coordinate"], a["jar"]) for a in doc["artifacts"])
        supplied = tuple(doc["supplied"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all(os.path.isfile(a.jar) for a in artifacts):
        return None  # Maven's repository changed: resolve again
    return Classpath(requested, artifacts, supplied)


def _write_cache(path: Path, classpath: Classpath) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "format": FORMAT,
        "requested": list(classpath.requested),
        "artifacts": [{"coordinate": a.coordinate, "jar": a.jar} for a in classpath.artifacts],
        "supplied": list(classpath.supplied),
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _pom(lines: list[MavenLine]) -> str:
    deps = []
    for ln in lines:
        fields = [("groupId", ln.group), ("artifactId", ln.artifact), ("version", ln.version), ("type", ln.extension)]
        fields += [("classifier", ln.classifier)] if ln.classifier else []
        deps.append("<dependency>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields) + "</dependency>")
    group, artifact, _, version = _PROJECT.split(":")
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        f"<groupId>{group}</groupId><artifactId>{artifact}</artifactId><version>{version}</version>"
        f"<dependencies>{''.join(deps)}</dependencies></project>\n"
    )


def _run_maven(lines: list[MavenLine]) -> list[Artifact]:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise DependencyError(
            f"{_named(lines)}: Maven (mvn) is not on PATH, and it resolves the artifacts a notebook loads; "
            "install Maven 3.8+ (e.g. apt-get install maven)"
        )
    with tempfile.TemporaryDirectory(prefix="djl-parity-maven-") as tmp:
        pom, listing = Path(tmp) / "pom.xml", Path(tmp) / "resolved.txt"
        pom.write_text(_pom(lines), encoding="utf-8")
        cmd = [mvn, "-B", "-q", "-Dstyle.color=never", "-f", str(pom), f"{PLUGIN}:list"]
        cmd += [f"-DoutputFile={listing}", "-DoutputAbsoluteArtifactFilename=true", "-DincludeScope=runtime"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=MAVEN_TIMEOUT_S, cwd=tmp)
        except subprocess.TimeoutExpired:
            raise DependencyError(f"{_named(lines)}: Maven did not resolve it within {MAVEN_TIMEOUT_S} s") from None
        if proc.returncode != 0 or not listing.is_file():
            raise DependencyError(_failure(lines, _ANSI.sub("", proc.stdout + proc.stderr)))
        return _parse_listing(listing.read_text(encoding="utf-8"))


def _parse_listing(text: str) -> list[Artifact]:
    """``dependency:list`` lines ``g:a:type[:classifier]:version:scope:/path.jar -- module ...``."""
    out = []
    for line in text.splitlines():
        coords, sep, path = line.strip().partition(":/")
        if not sep:
            continue
        parts = coords.split(":")
        group, artifact, extension, *classifier, version, _scope = parts
        middle = f":{extension}:{classifier[0]}" if classifier else ""
        out.append(Artifact(f"{group}:{artifact}{middle}:{version}", "/" + path.split(" -- ")[0].strip()))
    return out


def _named(lines: list[MavenLine]) -> str:
    return "; ".join(f"{ln.magic} {ln} (cell {ln.cell})" for ln in lines)


def _failure(lines: list[MavenLine], output: str) -> str:
    """One line: the requested artifact Maven names (all of them when it names none of them), and its reason."""
    errors = [ln[len("[ERROR] ") :] for ln in output.splitlines() if ln.startswith("[ERROR] ")]
    reason = errors[0] if errors else (output.strip().splitlines() or ["Maven failed"])[-1]
    reason = reason.split(" -> [Help")[0]
    reason = re.sub(r"^Failed to execute goal .*? on project [^:]+: ", "", reason)
    reason = re.sub(rf"^Could not resolve dependencies for project {re.escape(_PROJECT)}: ", "", reason)
    named = [ln for ln in lines if f"{ln.group}:{ln.artifact}:" in reason] or lines
    return f"{_named(named)}: Maven cannot resolve it from Maven Central: {reason.strip()}"


def conflicts(classpath: Classpath, engine_jars: list[str], engine: str) -> list[str]:
    """One note per resolved artifact that shares classes with the engine side's jars (the side's copies run)."""
    engine_classes: dict[str, str] = {}
    for jar in engine_jars:
        for name in _classes(jar):
            engine_classes.setdefault(name, Path(jar).name)
    notes = []
    for a in classpath.artifacts:
        shared = sorted(n for n in _classes(a.jar) if n in engine_classes)
        if shared:
            owners = sorted({engine_classes[n] for n in shared})
            notes.append(
                f"{a.coordinate}: {len(shared)} of its classes (e.g. {shared[0][:-6].replace('/', '.')}) are also "
                f"in the {engine} side's {', '.join(owners)}; the side's copies are the ones loaded"
            )
    return notes


def _classes(jar: str) -> set[str]:
    try:
        with zipfile.ZipFile(jar) as z:
            return {
                n
                for n in z.namelist()
                if n.endswith(".class") and not n.startswith("META-INF/") and not n.endswith("module-info.class")
            }
    except (OSError, zipfile.BadZipFile):
        return set()


def classpath_notes(classpath: Classpath, engine: str) -> list[str]:
    """The resolved versions and the classes they share with ``engine``'s side, as notes for the user."""
    from djl_bridge.jvm.runtime import BridgeSetupError
    from djl_bridge.jvm.runtime import classpath as engine_classpath

    note = classpath.note()
    if note is None:
        return []
    try:
        jars = engine_classpath(engine)
    except BridgeSetupError:  # not built: the run stops there with its own message
        jars = []
    return [note, *conflicts(classpath, jars, engine)]
