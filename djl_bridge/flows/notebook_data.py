"""A notebook's text-pipeline values (``notebook/values.py``) against the port's own: the data stages.

Each value the notebook declared is judged against what the port computes for it from the same
text (``text.py``), exactly:

- ``lines``: a ``String[]`` with the text's line count, against the port's cleaned lines (an empty
  string the book's counting keeps, one that is not Java's literal ``""``, is shown as ``∅`` on both
  sides, so the quirk of docs/notebook.md, "Text and vocabulary", is compared too);
- ``tokens``: a ``String[][]`` with one row per line, against the port's tokens of that kind
  (characters when no token is longer than one character, else words);
- ``vocab``: a vocabulary of characters or words, against the port's ``Vocab`` of the text's tokens
  of that kind, its reserved tokens and minimum frequency read from the notebook's vocabulary (the
  tokens it holds that it did not count; the smallest count it kept): the index list, then the
  (token, count) list in its order;
- ``corpus``: a list of more than 1,000 integers (a corpus of character indices; shorter lists
  are the notebook's toy sequences) against the port's corpus of the same length, or a list of
  more than 1,000 strings against the port's word tokens, in order.

The port reads the text with the book helper's reader; where a value differs from it but matches the
port with the reader of text-preprocessing's own ``readTimeMachine`` exactly (``String.strip``), that
is the comparison, and its note says so. A value of these kinds that is none of these (an n-gram
vocabulary, a toy sequence, another text) is listed as not compared, with what it is.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

from djl_bridge.notebook.values import COUNTED_EMPTY, DataValue
from djl_bridge.parity.compare import FAILED, StageResult, compare_stage
from djl_bridge.parity.tolerances import Tolerance

#: Lists longer than this are a corpus of the text; shorter ones the notebook's own small examples.
CORPUS_MIN = 1000
EXACT = Tolerance(exact=True)


@cache
def _text(data: Path, strip: bool) -> tuple[list[str], dict[str, list[list[str]]], list[int]]:
    """The port's lines, tokens of each kind and corpus, with the book helper's reader or (``strip``) with
    text-preprocessing's own (``text.clean_line``)."""
    from djl_bridge.text import load_corpus_time_machine, read_time_machine, tokenize

    lines = read_time_machine(data, strip)
    tokens = {kind: tokenize(lines, kind) for kind in ("char", "word")}
    return lines, tokens, load_corpus_time_machine(data, strip=strip)[0]


def _shown(strings: list[str]) -> list[str]:
    """The port's strings as :meth:`DataValue.shown` shows the notebook's: a counted empty string as ``∅``."""
    from djl_bridge.text import is_counted

    return [COUNTED_EMPTY if s == "" and is_counted(s) else s for s in strings]


def _kind(tokens: list[str]) -> str | None:
    """char, word, or None for n-grams (tokens with a space)."""
    if all(len(t) <= 1 for t in tokens):
        return "char"
    return None if any(" " in t for t in tokens) else "word"


def _port_vocab(value: DataValue, tokens: dict[str, list[list[str]]]) -> tuple[list[str], list[tuple[str, int]]] | str:
    """The port's vocabulary for the notebook's (same token kind, reserved tokens, minimum count), or what
    the notebook's vocabulary is when the port has none like it."""
    from djl_bridge.text import Vocab

    idx, freqs = value.vocab()
    kind = _kind([t for t, _ in freqs])
    if kind is None:
        return f"an n-gram vocabulary of {len(idx)} tokens (the port counts characters and words only)"
    counted, indexed = {t for t, _ in freqs}, set(idx)
    reserved = [t for t in idx[1:] if t not in counted]
    kept = [c for t, c in freqs if t in indexed]
    min_freq = min(kept) if len(kept) < len(freqs) and kept else 0
    vocab = Vocab(tokens[kind], min_freq, reserved)
    return list(vocab.idx_to_token), [(str(t), int(c)) for t, c in vocab.token_freqs]


def _listed(idx: list[str], freqs: list[tuple[str, int]]) -> list[str]:
    """A vocabulary as one list: its index list, then its (token, count) list."""
    return [f"{i}: {t!r}" for i, t in enumerate(idx)] + [f"{t!r} × {c}" for t, c in freqs]


def _counterpart(value: DataValue, data: Path, strip: bool) -> tuple[str, list, list] | str:
    """(stage, the notebook's value, the port's) as comparable lists, or what the value is (not compared)."""
    lines, tokens, corpus = _text(data, strip)
    if value.kind == "lines":
        if len(value.strings) != len(lines):
            return f"{len(value.strings)} strings, not the text's {len(lines)} lines"
        return "lines", value.shown(), _shown(lines)
    if value.kind == "tokens":
        rows, kind = value.rows(), _kind(value.strings)
        if len(rows) != len(lines) or kind is None:
            return f"{len(rows)} rows of tokens, not the text's {len(lines)} lines tokenised"
        return "tokens", ["\u241f".join(r) for r in rows], ["\u241f".join(_shown(r)) for r in tokens[kind]]
    if value.kind == "vocab":
        port = _port_vocab(value, tokens)
        return port if isinstance(port, str) else ("vocab", _listed(*value.vocab()), _listed(*port))
    if value.kind == "ints" and len(value.ints) > CORPUS_MIN:
        return "corpus", value.ints.tolist(), corpus[: len(value.ints)]
    if value.kind == "words" and len(value.strings) > CORPUS_MIN:
        from djl_bridge.text import is_counted

        return "corpus", value.shown(), _shown([t for row in tokens["word"] for t in row if is_counted(t)])
    return f"a list of {len(value.ints) or len(value.strings)} {'integers' if value.kind == 'ints' else 'strings'}"


#: The note on a value that matches the port's with text-preprocessing's own reader.
STRIPPED = (
    "with the reader of text-preprocessing's own readTimeMachine (String.strip: empty lines become the literal "
    '"", not counted), not the book helper\'s (trim)'
)


def _judged(value: DataValue, data: Path, mode: str) -> StageResult | str:
    """The value's stage: against the port with the book helper's reader, or with text-preprocessing's own
    where that one matches it exactly (and said so); or what the value is, when the port has no counterpart."""
    found = _counterpart(value, data, False)
    if isinstance(found, str):
        return found
    stage, mine, port = found
    result = compare_stage(stage, mine, port, mode, "", EXACT)
    if result.status == FAILED:
        _, _, stripped = _counterpart(value, data, True)
        other = compare_stage(stage, mine, stripped, mode, "", EXACT, note=STRIPPED)
        result = other if other.status != FAILED else result
    return replace(result, stage=f"{value.where()}: {stage}")


def judge_values(values: list[DataValue], data: Path, mode: str) -> tuple[list[StageResult], list[str]]:
    """The data stages of the notebook's values (named "cell C `name`: STAGE"), and what was not compared."""
    stages, skipped = [], []
    for value in values:
        found = _judged(value, data, mode)
        if isinstance(found, str):
            skipped.append(f"{value.where()}: {found}")
        else:
            stages.append(found)
    return stages, skipped
