"""Text, tokens and vocabulary of The Time Machine, exactly as the Java notebook builds them.

The one subtle point is the empty-string token (docs/notebook.md, "Text and vocabulary"). Java counts a
token unless it *is* the interned literal ``""``. A line that was already empty in the file
yields a fresh empty ``String`` (counted); a line that becomes empty only through cleaning yields
the literal (skipped). Python has no such identity, so the port marks the first kind with the
``EmptyLine`` type: ``clean_line("")`` returns ``EMPTY_LINE`` and tokenization passes it on as
the token, while a line emptied by cleaning is a plain ``""``. ``Vocab`` skips plain ``""`` only.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

_NON_LETTERS = re.compile(r"[^A-Za-z]+")


class EmptyLine(str):
    """An empty string read as an empty line from the file (Java: a new, non-literal String)."""

    def __new__(cls) -> EmptyLine:
        return super().__new__(cls, "")

    def __repr__(self) -> str:
        return "EMPTY_LINE"


EMPTY_LINE = EmptyLine()


def is_counted(token: str) -> bool:
    """Whether Java's ``token != ""`` holds: everything but a plain (literal) empty string."""
    return token != "" or isinstance(token, EmptyLine)


def clean_line(line: str, strip: bool = False) -> str:
    """Replace each run of non-letters by one space, trim, lower-case.

    An already-empty line comes back as ``EMPTY_LINE`` (counted by ``Vocab``): Java's ``trim()``, as the
    book's helper calls it, returns the line itself. A line that only cleaning empties comes back as a
    plain ``""`` (not counted). ``strip``: Java's ``String.strip()`` instead, as the text-preprocessing
    notebook's own ``readTimeMachine`` calls it, which returns the literal ``""`` for an empty line too
    (docs/notebook.md, "Text and vocabulary").
    """
    if line == "":
        return "" if strip else EMPTY_LINE
    return _NON_LETTERS.sub(" ", line).strip(" ").lower()


def read_lines(path: str | Path) -> list[str]:
    """Lines as Java's ``BufferedReader.lines()`` gives them: ``\\n``, ``\\r\\n`` and ``\\r`` end one."""
    text = Path(path).read_bytes().decode("utf-8", errors="replace")
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()  # a terminator at the very end does not start another line
    return lines


def read_time_machine(path: str | Path, strip: bool = False) -> list[str]:
    """The cleaned lines of the book (empty lines of the file as ``EMPTY_LINE``, or ``""`` with ``strip``)."""
    return [clean_line(line, strip) for line in read_lines(path)]


def tokenize(lines: list[str], token: str = "char") -> list[list[str]]:
    """Split lines into tokens like Java ``split("")`` ("char") or ``split(" ")`` ("word").

    An empty line gives the single token ``[line]`` (so ``EMPTY_LINE`` survives); for words,
    trailing empty strings are dropped and inner ones stay plain ``""`` (Java's literal).
    """
    if token not in ("char", "word"):
        raise ValueError(f"unknown token type {token!r}: expected 'char' or 'word'")
    result = []
    for line in lines:
        if line == "":
            result.append([line])
        elif token == "char":
            result.append(list(line))
        else:
            words = line.split(" ")
            while words and words[-1] == "":
                words.pop()
            result.append(words)
    return result


class Vocab:
    """Token ↔ index table: ``<unk>`` at 0, reserved tokens, then tokens by descending count."""

    def __init__(self, tokens: list[list[str]], min_freq: int = 0, reserved_tokens: Sequence[str] = ()) -> None:
        counter = collections.Counter(t for line in tokens for t in line if is_counted(t))
        # Counter keeps first-seen order and sorted() is stable: ties stay in first-seen order.
        self.token_freqs: list[tuple[str, int]] = sorted(
            ((str(t), n) for t, n in counter.items()), key=lambda p: p[1], reverse=True
        )
        self.idx_to_token: list[str] = ["<unk>", *reserved_tokens]
        self.token_to_idx: dict[str, int] = {}
        for i, t in enumerate(self.idx_to_token):
            self.token_to_idx.setdefault(t, i)
        for t, n in self.token_freqs:
            if n >= min_freq and t not in self.token_to_idx:
                self.token_to_idx[t] = len(self.idx_to_token)
                self.idx_to_token.append(t)

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def get_idx(self, token: str) -> int:
        return self.token_to_idx.get(token, 0)

    def get_idxs(self, tokens: Iterable[str]) -> list[int]:
        return [self.get_idx(t) for t in tokens]

    def to_tokens(self, idxs: Iterable[int]) -> list[str]:
        return [self.idx_to_token[int(i)] for i in idxs]


def load_corpus_time_machine(path: str | Path, max_tokens: int = -1, strip: bool = False) -> tuple[list[int], Vocab]:
    """Character indices of the book (non-empty tokens only) and its vocabulary (``strip``: as ``clean_line``).

    ``max_tokens > 0`` keeps the first ``max_tokens``; more than the corpus holds is an error.
    """
    tokens = tokenize(read_time_machine(path, strip), "char")
    vocab = Vocab(tokens)
    corpus = [vocab.get_idx(t) for line in tokens for t in line if t != ""]
    if max_tokens > 0:
        if max_tokens > len(corpus):
            raise ValueError(f"max_tokens={max_tokens} exceeds the corpus of {path} ({len(corpus)} tokens)")
        corpus = corpus[:max_tokens]
    return corpus, vocab
