"""The text pipeline's values a notebook holds in its variables, read as it runs (no torch here).

After each cell, the variables it declared are read (as the cell left them) when they are of a kind
the port computes too (``org.djlparity.notebook.DataValues``): the text's lines (``String[]``), its tokens
(``String[][]``), a vocabulary (the book's ``Vocab``: ``idxToToken`` and ``tokenFreqs``), a list of
integers or of strings (a corpus). A later snippet that declares the same name again is read
again, so each value is kept as it was when declared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from djl_bridge.jvm import java_call, jclass

DATA_VALUES = "org.djlparity.notebook.DataValues"
#: An empty string that counts as a token (not Java's literal ``""``), as the comparisons show it.
COUNTED_EMPTY = "\u2205"


@dataclass(frozen=True)
class DataValue:
    """One variable's value: where it was declared, its name and kind, its strings (split by ``lengths``:
    a row's token count for tokens, the index list's length for a vocabulary) and its integers (a vocabulary's
    counts, a corpus; for strings: the positions of the empty strings that are not Java's literal ``""``)."""

    cell: int
    origin: str
    line: int
    name: str
    kind: str  # lines, tokens, vocab, ints, words
    strings: list[str]
    lengths: list[int]
    ints: np.ndarray

    def shown(self) -> list[str]:
        """The strings, each empty one that the book's counting keeps (not the literal) shown as ``∅``."""
        out = list(self.strings)
        for i in self.ints.tolist():
            out[i] = COUNTED_EMPTY
        return out

    def rows(self) -> list[list[str]]:
        """Tokens as rows (one per line), as :meth:`shown` shows them."""
        shown, out, at = self.shown(), [], 0
        for n in self.lengths:
            out.append(shown[at : at + n])
            at += n
        return out

    def vocab(self) -> tuple[list[str], list[tuple[str, int]]]:
        """A vocabulary's index list and its (token, count) list."""
        n = self.lengths[0]
        return self.strings[:n], list(zip(self.strings[n:], (int(c) for c in self.ints)))

    def where(self) -> str:
        return f"cell {self.cell} `{self.name}`"


def declared_values(declared: list[tuple[str, int, str, int]], value: Callable[[str], Any]) -> list[DataValue]:
    """The values of the ``declared`` variables (name, cell, origin, line; ``value(name)`` reads one) of a kind
    the port computes."""
    out = []
    with java_call():
        for name, cell, origin, line in declared:
            try:
                v = jclass(DATA_VALUES).of(value(name))
            except Exception:  # a value that cannot be read (a failed initialiser): nothing to compare
                continue
            if v is not None:
                strings = [str(s) for s in v.strings]
                ints = np.asarray(v.ints, dtype=np.int32)
                out.append(DataValue(cell, origin, line, name, str(v.kind), strings, [int(n) for n in v.lengths], ints))
    return out
