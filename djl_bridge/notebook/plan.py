"""A notebook's cells as the units JShell evaluates: IJava's magics resolved, plotting stood in for.

- ``%load REL``: the file's text (a ``.ipynb``: its code cells), found beside the file that loads
  it, or under ``--utils DIR``; like IJava, a name without suffix also tries ``.jsh``, ``.jshell``,
  ``.java`` and ``.ipynb``.
- ``%maven G:A:V``: recorded (see :mod:`djl_bridge.notebook.maven`); the engine side supplies it.
- The D2L plotting helpers that draw with Tablesaw through the kernel's display (``Animator``,
  ``PlotUtils``, ``plot-utils``) load as imports of our recording stand-ins with the same API.
- Any other magic, and code that needs Tablesaw or the IJava kernel, is an error naming the cell.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from djl_bridge.notebook.cells import Cell, NotebookError, read_cells, read_text
from djl_bridge.notebook.maven import MavenLine, parse_maven

STANDIN_PACKAGE = "org.djlparity.notebook.standins"
#: Loaded helper (file stem) -> the imports that replace it.
STANDINS: dict[str, tuple[str, ...]] = {
    "Animator": ("Animator",),
    "PlotUtils": ("PlotUtils", "Figure"),
    "plot-utils": ("Figure",),
}
#: Imported into the shell before the first cell, as IJava's kernel imports its display functions.
PRELUDE = f"import static {STANDIN_PACKAGE}.Display.*;"
_KERNEL_ONLY = re.compile(r"\b(tech\.tablesaw|io\.github\.spencerpark)\b")
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
    maven: list[MavenLine] = field(default_factory=list)
    standins: list[str] = field(default_factory=list)


def build_plan(notebook: Path, utils: Path | None = None) -> Plan:
    """Resolve every magic of ``notebook``; :class:`NotebookError` (naming the cell) for what cannot run."""
    cells = read_cells(notebook)
    plan = Plan(notebook, len(cells))
    for cell in cells:
        _expand(plan, cell.number, cell, f"cell {cell.number}", notebook.parent, utils, depth=0)
    return plan


def where(cell: int, origin: str, line: int | None = None) -> str:
    """ "cell 3 line 5", or "cell 1 (../utils/X.java line 40)" for code a cell loads."""
    at = f" line {line}" if line is not None else ""
    return f"cell {cell}{at}" if origin == f"cell {cell}" else f"cell {cell} ({origin}{at})"


def _display(path: Path, base: Path) -> str:
    return os.path.relpath(path.resolve(), base.resolve())


def _expand(plan: Plan, number: int, cell: Cell, origin: str, folder: Path, utils: Path | None, depth: int) -> None:
    lines = cell.text.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].split()[0]
        raise NotebookError(
            f"{where(number, origin)}: cell magic {magic} is not supported by djl-parity (only %load and %maven lines)"
        )
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
            for coord in arg.split():
                plan.maven.append(parse_maven(number, origin, i, coord))
        else:
            raise NotebookError(f"{at}: magic {name} is not supported by djl-parity (only %load and %maven)")
    flush()


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
    stem = path.name.split(".")[0]
    if path.suffix == ".ipynb":
        cells = read_cells(path)
        text = "\n".join(c.text for c in cells)
    else:
        text = read_text(path, "file")
        cells = [Cell(1, text, path)]
    if stem in STANDINS and _KERNEL_ONLY.search(text):
        imports = "\n".join(f"import {STANDIN_PACKAGE}.{c};" for c in STANDINS[stem])
        plan.units.append(Unit(number, f"{shown} (stand-in)", imports))
        plan.standins.append(
            f"%load {target} (cell {number}): {shown} draws with Tablesaw through the IJava "
            f"kernel; replaced by djl-parity's recording {', '.join(STANDINS[stem])}"
        )
        return
    for c in cells:
        origin = shown if path.suffix != ".ipynb" else f"{shown} cell {c.number}"
        kernel = _KERNEL_ONLY.search(c.text)
        if kernel:
            raise NotebookError(
                f"{at}: %load {target}: {origin} needs {kernel.group(1)} (plotting or the IJava "
                f"kernel), which djl-parity stands in for only in {', '.join(STANDINS)}"
            )
        _expand(plan, number, c, origin, path.parent, utils, depth + 1)
