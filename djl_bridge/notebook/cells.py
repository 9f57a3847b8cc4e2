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
#: The largest notebook or loaded file read (the book's largest notebook is well under 1 MB).
MAX_BYTES = 16 * 2**20
_SEPARATOR = re.compile(r"^[ \t]*//[ \t]*%%[^\n]*\n?", re.MULTILINE)


class NotebookError(ValueError):
    """A notebook that cannot run as given; the message is one line and names the cell."""


@dataclass(frozen=True)
class Cell:
    """One code cell: its number among the code cells, its text, and the file it is in."""

    number: int
    text: str
    path: Path


def read_text(path: Path, what: str = "notebook") -> str:
    """A notebook's (or a file it loads) text as UTF-8; :class:`NotebookError` naming what is wrong with it."""
    if not path.exists():
        raise NotebookError(f"{path}: no such {what}")
    if not path.is_file():
        raise NotebookError(f"{path}: the {what} is not a regular file")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise NotebookError(f"{path}: the {what} has {size:,} bytes; djl-parity reads files up to {MAX_BYTES:,}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError(f"{path}: the {what} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise NotebookError(f"{path}: the {what} cannot be read ({exc.strerror})") from None


def read_cells(path: Path) -> list[Cell]:
    """The code cells of ``path`` in order; :class:`NotebookError` when it is not a Java notebook."""
    if path.suffix == ".ipynb":
        return _ipynb_cells(path)
    if path.suffix in CELL_FILE_SUFFIXES:
        texts = _SEPARATOR.split(read_text(path))
        return [Cell(i, t, path) for i, t in enumerate(texts, 1)]
    if not path.exists():
        raise NotebookError(f"{path}: no such notebook")
    raise NotebookError(f"{path}: not a notebook (.ipynb) or Java cell file ({', '.join(CELL_FILE_SUFFIXES)})")


def _ipynb_cells(path: Path) -> list[Cell]:
    text = read_text(path)
    try:
        nb = json.loads(text)
        cells = list(nb["cells"])
        meta = nb.get("metadata") or {}
        language = (meta.get("kernelspec") or {}).get("language") or (meta.get("language_info") or {}).get("name")
        code = [c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
        sources = [_source(c) for c in code]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise NotebookError(f"{path}: not a Jupyter notebook ({exc.__class__.__name__}: {exc})") from None
    if str(language or "java").lower() != "java":
        raise NotebookError(f"{path}: a {language} notebook; djl-parity runs Java notebooks (IJava kernel)")
    return [Cell(i, src, path) for i, src in enumerate(sources, 1)]


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    if isinstance(src, list):
        return "".join(src)
    if not isinstance(src, str):
        raise TypeError(f"a cell's source is a {type(src).__name__}")
    return src


def where(cell: int, origin: str, line: int | None = None) -> str:
    """ "cell 3 line 5", or "cell 1 (../utils/X.java line 40)" for code a cell loads."""
    at = f" line {line}" if line is not None else ""
    return f"cell {cell}{at}" if origin == f"cell {cell}" else f"cell {cell} ({origin}{at})"
