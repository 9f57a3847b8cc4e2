"""A notebook's cells as the units JShell evaluates, with IJava's magics resolved.

- ``%load REL``: the file's text (a ``.ipynb``: its code cells), found beside the file that loads
  it, or under ``--utils DIR``; like IJava, a name without suffix also tries ``.jsh``, ``.jshell``,
  ``.java`` and ``.ipynb``.
- ``%maven G:A:V`` and ``%%loadFromPOM`` cells (``<dependency>`` elements): the engine sides'
  artifacts are recorded (:mod:`djl_bridge.notebook.maven`); any other is resolved from Maven
  Central with its dependencies, once (:mod:`djl_bridge.notebook.resolve`), and its jars go on
  the shell's class path (``Plan.classpath``).
- The kernel's display functions are the shell's prelude (:data:`PRELUDE`); any other magic is an
  error naming the cell.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from djl_bridge.notebook.cells import Cell, NotebookError, read_cells, read_text, where
from djl_bridge.notebook.maven import MavenLine, parse_maven, parse_pom
from djl_bridge.notebook.resolve import Classpath, resolve

#: Imported into the shell before the first cell, as IJava's kernel imports its display functions.
PRELUDE = "import static org.djlparity.notebook.standins.Display.*;"
_LOAD_SUFFIXES = ("", ".jsh", ".jshell", ".java", ".ipynb")
_MAX_DEPTH = 8


@dataclass
class Unit:
    """Code JShell evaluates in one go: its cell, where its text comes from, its first line there."""

    cell: int
    origin: str
    text: str
    first_line: int = 1


@dataclass
class Plan:
    """Everything the notebook will evaluate, in order, and what it asked of the environment."""

    notebook: Path
    cells: int
    units: list[Unit] = field(default_factory=list)
    maven: list[MavenLine] = field(default_factory=list)  # the engine sides' artifacts
    dependencies: list[MavenLine] = field(default_factory=list)  # the others, from Maven Central
    classpath: Classpath = Classpath()  # the dependencies' jars, resolved


def build_plan(notebook: Path, utils: Path | None = None) -> Plan:
    """Resolve every magic of ``notebook``; :class:`NotebookError` (naming the cell) for what cannot run.

    Maven resolves the dependencies the first time (:class:`~djl_bridge.notebook.resolve.DependencyError`
    when it cannot); later builds of the same plan read the cached result.
    """
    cells = read_cells(notebook)
    plan = Plan(notebook, len(cells))
    for cell in cells:
        _expand(plan, cell.number, cell, f"cell {cell.number}", notebook.parent, utils, depth=0)
    return replace(plan, classpath=resolve(plan.dependencies))


def _display(path: Path, base: Path) -> str:
    return os.path.relpath(path.resolve(), base.resolve())


def _expand(plan: Plan, number: int, cell: Cell, origin: str, folder: Path, utils: Path | None, depth: int) -> None:
    lines = cell.text.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].split()[0]
        if magic != "%%loadFromPOM":
            raise NotebookError(
                f"{where(number, origin)}: cell magic {magic} is not supported by djl-parity "
                "(only %%loadFromPOM, and %load and %maven lines)"
            )
        _add(plan, parse_pom(number, origin, "\n".join(lines[1:])))
        return
    chunk: list[str] = []
    chunk_start = 1

    def flush() -> None:
        text = "\n".join(chunk)
        if text.strip():
            plan.units.append(Unit(number, origin, text, chunk_start))

    for i, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped.startswith("%"):
            if not chunk:
                chunk_start = i
            chunk.append(line)
            continue
        flush()
        chunk = []
        name, _, arg = stripped.partition(" ")
        at = where(number, origin, i)
        if name == "%load":
            _load(plan, number, arg.strip(), at, folder, utils, depth)
        elif name == "%maven":
            _add(plan, [parse_maven(number, origin, i, coord) for coord in arg.split()])
        else:
            raise NotebookError(f"{at}: magic {name} is not supported by djl-parity (only %load and %maven)")
    flush()


def _add(plan: Plan, lines: list[MavenLine]) -> None:
    for ln in lines:
        (plan.maven if ln.supplied else plan.dependencies).append(ln)


def _resolve(target: str, folder: Path, utils: Path | None) -> Path | None:
    bases = [folder / target]
    if utils is not None:
        parts = Path(target).parts
        rel = Path(*parts[parts.index("utils") + 1 :]) if "utils" in parts[:-1] else Path(parts[-1])
        bases += [utils / rel]
    for base in bases:
        for suffix in _LOAD_SUFFIXES:
            candidate = base.with_name(base.name + suffix)
            if candidate.is_file():
                return candidate
    return None


def _load(plan: Plan, number: int, target: str, at: str, folder: Path, utils: Path | None, depth: int) -> None:
    if not target:
        raise NotebookError(f"{at}: %load needs a file")
    if depth >= _MAX_DEPTH:
        raise NotebookError(f"{at}: %load {target}: loads nest deeper than {_MAX_DEPTH} (a cycle?)")
    path = _resolve(target, folder, utils)
    if path is None:
        hint = f" or under --utils {utils}" if utils is not None else " (give --utils DIR for the helpers' folder)"
        raise NotebookError(f"{at}: %load {target}: no such file beside the notebook{hint}")
    shown = _display(path, plan.notebook.parent)
    if path.suffix == ".ipynb":
        for c in read_cells(path):
            _expand(plan, number, c, f"{shown} cell {c.number}", path.parent, utils, depth + 1)
    else:
        _expand(plan, number, Cell(1, read_text(path, "file"), path), shown, path.parent, utils, depth + 1)
