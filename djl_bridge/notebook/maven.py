"""``%maven`` lines mapped onto the engine sides djl-parity ships, and the engine a notebook asks for.

The in-process side is DJL 0.35.1 with the PyTorch engine on the shared libtorch 2.7.1; the
MXNet side is DJL 0.23.0 with MXNet 1.9 in a worker process. A pinned artifact outside this table
cannot be supplied (an error); a pinned version that differs from what runs is stated.
"""

from __future__ import annotations

import re
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
_COORD = re.compile(r"^([\w.\-]+):([\w.\-]+)(?::[\w.\-]+){0,2}:([\w.\-]+)$")


@dataclass(frozen=True)
class MavenLine:
    """One ``%maven`` line: where it is and the artifact it pins."""

    cell: int
    origin: str
    group: str
    artifact: str
    version: str

    @property
    def key(self) -> str:
        return f"{self.group}:{self.artifact}"

    def __str__(self) -> str:
        return f"{self.key}:{self.version}"


def parse_maven(cell: int, origin: str, line: int, argument: str) -> MavenLine:
    """A ``%maven`` argument as a pinned artifact; :class:`NotebookError` for unknown or malformed ones."""
    from djl_bridge.notebook.plan import where

    m = _COORD.match(argument.strip())
    if m is None:
        raise NotebookError(f"{where(cell, origin, line)}: %maven {argument.strip()}: expected group:artifact:version")
    parsed = MavenLine(cell, origin, m.group(1), m.group(2), m.group(3))
    if parsed.key not in SUPPLIED:
        raise NotebookError(
            f"{where(cell, origin, line)}: %maven {parsed}: djl-parity cannot supply this artifact "
            f"(it supplies {', '.join(sorted(SUPPLIED))})"
        )
    return parsed


def choose_engine(requested: str, lines: list[MavenLine]) -> str:
    """``auto``: MXNet when the notebook pins an MXNet artifact, else PyTorch; otherwise as requested."""
    if requested != "auto":
        return requested
    return "mxnet" if any(SUPPLIED[ln.key] == "mxnet" for ln in lines) else "pytorch"


def substitutions(engine: str, lines: list[MavenLine]) -> list[str]:
    """One statement for every pinned artifact that runs as something else on ``engine``'s side."""
    versions = SIDE_VERSIONS[engine]
    out = []
    for ln in lines:
        kind = SUPPLIED[ln.key]
        if kind in ENGINES and kind != engine:
            out.append(f"%maven {ln} (cell {ln.cell}) runs as DJL {versions['djl']}'s {engine} engine")
        elif kind in ENGINES or kind == "djl":
            if ln.version != versions["djl"]:
                out.append(f"%maven {ln} (cell {ln.cell}) runs as version {versions['djl']}")
        elif ln.version != versions["slf4j"]:
            out.append(f"%maven {ln} (cell {ln.cell}) runs as version {versions['slf4j']}")
    return out
