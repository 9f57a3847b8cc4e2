"""Text, vocabulary and corpus: hand-worked values, including the Java empty-line quirk."""

import pytest

from djl_bridge.text import (
    EMPTY_LINE,
    Vocab,
    clean_line,
    load_corpus_time_machine,
    read_lines,
    read_time_machine,
    tokenize,
)

TEXT = "The Time, 1898!\r\n\nab  ba\r123\n\n"


@pytest.fixture
def book(tmp_path):
    path = tmp_path / "book.txt"
    path.write_bytes(TEXT.encode())
    return path


def test_read_lines_java_terminators(book):
    assert read_lines(book) == ["The Time, 1898!", "", "ab  ba", "123", ""]


def test_clean_line():
    assert clean_line("The Time, 1898!") == "the time"
    assert clean_line("--a1b--") == "a b"
    assert clean_line("123") == "" and type(clean_line("123")) is str
    assert clean_line("") is EMPTY_LINE


def test_tokenize_char_and_word(book):
    lines = read_time_machine(book)
    assert lines == ["the time", "", "ab ba", "", ""]
    chars = tokenize(lines)
    assert chars[0] == list("the time") and chars[1] == [""] and chars[3] == [""]
    assert chars[1][0] is EMPTY_LINE and type(chars[3][0]) is str
    assert tokenize(["a b", "a  b ", ""], "word") == [["a", "b"], ["a", "", "b"], [""]]
    with pytest.raises(ValueError):
        tokenize(lines, "byte")


def test_vocab_counts_only_raw_empty_lines(book):
    vocab = Vocab(tokenize(read_time_machine(book)))
    # first-seen counts: t2 h1 e2 ' '2 i1 m1 ''2 a2 b2 ('' = two raw empty lines; the digit
    # line is skipped); a stable sort by count keeps first-seen order among equals
    assert vocab.idx_to_token == ["<unk>", "t", "e", " ", "", "a", "b", "h", "i", "m"]
    assert dict(vocab.token_freqs)[""] == 2
    assert vocab.get_idx("") == 4 and vocab.get_idx("z") == 0
    assert vocab.get_idxs(["a", "q"]) == [5, 0]
    assert vocab.to_tokens([2, 3, 0]) == ["e", " ", "<unk>"]
    assert len(vocab) == 10


def test_vocab_reserved_and_min_freq():
    vocab = Vocab([["b", "a", "b", "c"]], min_freq=2, reserved_tokens=["<pad>", "b"])
    assert vocab.idx_to_token == ["<unk>", "<pad>", "b"]


def test_corpus_and_max_tokens(book):
    corpus, vocab = load_corpus_time_machine(book)
    assert vocab.to_tokens(corpus) == list("the time") + list("ab ba")
    assert load_corpus_time_machine(book, max_tokens=3)[0] == corpus[:3]
    with pytest.raises(ValueError, match="exceeds"):
        load_corpus_time_machine(book, max_tokens=14)


def test_real_book_vocabulary(data_file):
    corpus, vocab = load_corpus_time_machine(data_file)
    assert len(vocab) == 29 and dict(vocab.token_freqs)[""] == 373
    assert vocab.idx_to_token[:4] == ["<unk>", " ", "e", "t"]
    assert len(corpus) == 170580
