"""``%maven`` lines and ``%%loadFromPOM`` dependencies: the engine sides' own artifacts, and the rest.

The in-process side is DJL 0.35.1 with the PyTorch engine on the shared libtorch 2.7.1; the
MXNet side is DJL 0.23.0 with MXNet 1.9 in a worker process. Their artifacts (:data:`SUPPLIED`)
always run as the side's versions, and a pinned version that differs is stated. Any other
artifact is resolved from Maven Central (:mod:`djl_bridge.notebook.resolve`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from djl_bridge.notebook.cells import NotebookError

ENGINES = ("pytorch", "mxnet")
#: What each engine side runs, for the statements of substituted versions.
SIDE_VERSIONS = {"pytorch": {"djl": "0.35.1", "slf4j": "2.0.17"}, "mxnet": {"djl": "0.23.0", "slf4j": "1.7.36"}}

#: group:artifact -> what it is: "djl" (DJL's API jars), an engine name, or "slf4j".
SUPPLIED: dict[str, str] = {
    "ai.djl:api": "djl",
    "ai.djl:basicdataset": "djl",
    "ai.djl.pytorch:pytorch-engine": "pytorch",
    "ai.djl.pytorch:pytorch-jni": "pytorch",
    "ai.djl.pytorch:pytorch-native-cpu": "pytorch",
    "ai.djl.pytorch:pytorch-native-auto": "pytorch",
    "ai.djl.mxnet:mxnet-engine": "mxnet",
    "ai.djl.mxnet:mxnet-native-mkl": "mxnet",
    "ai.djl.mxnet:mxnet-native-auto": "mxnet",
    "org.slf4j:slf4j-simple": "slf4j",
    "org.slf4j:slf4j-api": "slf4j",
}
_COORD = re.compile(r"^([\w.\-]+):([\w.\-]+)(?::([\w.\-]+))?(?::([\w.\-]+))?:([\w.\-]+)$")
_POM_FIELDS = {"groupId", "artifactId", "version", "type", "classifier"}
_POM_FIELDS_TEXT = ", ".join(f"<{f}>" for f in sorted(_POM_FIELDS))


@dataclass(frozen=True)
class MavenLine:
    """One ``%maven`` line: where it is and the artifact it pins."""

    cell: int
    origin: str
    group: str
    artifact: str
    version: str
    extension: str = "jar"
    classifier: str = ""
    magic: str = "%maven"

    @property
    def key(self) -> str:
        return f"{self.group}:{self.artifact}"

    @property
    def supplied(self) -> bool:
        """True for an artifact of the engine sides (DJL, its engines, slf4j)."""
        return self.key in SUPPLIED

    def __str__(self) -> str:
        middle = f":{self.extension}:{self.classifier}" if self.classifier else ""
        return f"{self.key}{middle}:{self.version}"


def parse_maven(cell: int, origin: str, line: int, argument: str) -> MavenLine:
    """A ``%maven`` argument, ``group:artifact[:extension[:classifier]]:version``; :class:`NotebookError` if bad."""
    from djl_bridge.notebook.cells import where

    m = _COORD.match(argument.strip())
    if m is None:
        raise NotebookError(f"{where(cell, origin, line)}: %maven {argument.strip()}: expected group:artifact:version")
    return MavenLine(cell, origin, m.group(1), m.group(2), m.group(5), m.group(3) or "jar", m.group(4) or "")


def parse_pom(cell: int, origin: str, text: str) -> list[MavenLine]:
    """The ``<dependency>`` elements of a ``%%loadFromPOM`` cell (optionally inside ``<dependencies>``)."""
    from djl_bridge.notebook.cells import where

    at = f"{where(cell, origin)}: %%loadFromPOM"
    try:
        root = ET.fromstring(f"<pom>{text}</pom>")
    except ET.ParseError as exc:
        raise NotebookError(f"{at}: not XML ({exc})") from None
    elements = [d for e in root for d in (e if e.tag == "dependencies" else [e])]
    out = []
    for dep in elements:
        fields = {child.tag: (child.text or "").strip() for child in dep}
        unknown = sorted(set(fields) - _POM_FIELDS)
        if dep.tag != "dependency" or unknown:
            what = f"<{dep.tag}>" if dep.tag != "dependency" else f"<{unknown[0]}> in a <dependency>"
            raise NotebookError(f"{at}: {what} is not supported (only <dependency> elements with {_POM_FIELDS_TEXT})")
        missing = [f for f in ("groupId", "artifactId", "version") if not fields.get(f)]
        if missing:
            raise NotebookError(f"{at}: a <dependency> without <{missing[0]}>")
        coord = ":".join(fields[f] for f in ("groupId", "artifactId", "version"))
        if not _COORD.match(coord):
            raise NotebookError(f"{at}: {coord} is not a Maven coordinate")
        extension, classifier = fields.get("type") or "jar", fields.get("classifier", "")
        out.append(MavenLine(cell, origin, *coord.split(":"), extension, classifier, "%%loadFromPOM"))
    if not out:
        raise NotebookError(f"{at}: no <dependency> elements")
    return out


def choose_engine(requested: str, lines: list[MavenLine]) -> str:
    """``auto``: MXNet when the notebook pins an MXNet artifact, else PyTorch; otherwise as requested."""
    if requested != "auto":
        return requested
    return "mxnet" if any(SUPPLIED.get(ln.key) == "mxnet" for ln in lines) else "pytorch"


def substitutions(engine: str, lines: list[MavenLine]) -> list[str]:
    """One statement for every pinned artifact that runs as something else on ``engine``'s side."""
    versions = SIDE_VERSIONS[engine]
    out = []
    for ln in lines:
        kind = SUPPLIED[ln.key]
        if kind in ENGINES and kind != engine:
            out.append(f"{ln.magic} {ln} (cell {ln.cell}) runs as DJL {versions['djl']}'s {engine} engine")
        elif kind in ENGINES or kind == "djl":
            if ln.version != versions["djl"]:
                out.append(f"{ln.magic} {ln} (cell {ln.cell}) runs as version {versions['djl']}")
        elif ln.version != versions["slf4j"]:
            out.append(f"{ln.magic} {ln} (cell {ln.cell}) runs as version {versions['slf4j']}")
    return out
