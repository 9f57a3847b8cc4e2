"""Reading a notebook's Java cells: Jupyter ``.ipynb`` (IJava kernel) or a ``.java``/``.jsh`` cell file.

A cell file is one cell, or several separated by lines ``// %%`` (the "percent" cell format).
Cells are numbered 1, 2, ... in the order of the notebook's code cells; markdown cells are skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

CELL_FILE_SUFFIXES = (".java", ".jsh", ".jshell")
_SEPARATOR = re.compile(r"^[ \t]*//[ \t]*%%[^\n]*\n?", re.MULTILINE)


class NotebookError(ValueError):
    """A notebook that cannot run as given; the message is one line and names the cell."""


@dataclass(frozen=True)
class Cell:
    """One code cell: its number among the code cells, its text, and the file it is in."""

    number: int
    text: str
    path: Path


def read_cells(path: Path) -> list[Cell]:
    """The code cells of ``path`` in order; :class:`NotebookError` when it is not a Java notebook."""
    if not path.is_file():
        raise NotebookError(f"{path}: no such notebook")
    if path.suffix == ".ipynb":
        return _ipynb_cells(path)
    if path.suffix in CELL_FILE_SUFFIXES:
        texts = _SEPARATOR.split(path.read_text(encoding="utf-8"))
        return [Cell(i, t, path) for i, t in enumerate(texts, 1)]
    raise NotebookError(f"{path}: not a notebook (.ipynb) or Java cell file ({', '.join(CELL_FILE_SUFFIXES)})")


def _ipynb_cells(path: Path) -> list[Cell]:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb["cells"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise NotebookError(f"{path}: not a Jupyter notebook ({exc.__class__.__name__}: {exc})") from None
    meta = nb.get("metadata") or {}
    language = (meta.get("kernelspec") or {}).get("language") or (meta.get("language_info") or {}).get("name") or "java"
    if str(language).lower() != "java":
        raise NotebookError(f"{path}: a {language} notebook; djl-parity runs Java notebooks (IJava kernel)")
    code = [c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    return [Cell(i, _source(c), path) for i, c in enumerate(code, 1)]


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)
