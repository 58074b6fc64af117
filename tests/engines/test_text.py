"""Clause splitting: what the engines are fed, chunk by chunk."""

from __future__ import annotations

import pytest

from xiwidgets.server.text import MAX_CHUNK_CHARS, speakable_text, split_clauses

PARAGRAPH = (
    "When the lights went out, everyone in the hall fell silent. Then a child laughed; "
    "the tension broke. Dr. Smith lit a candle and said: let's carry on!"
)


def _texts(text: str, **kwargs) -> list[str]:
    return [clause.text for clause in split_clauses(text, **kwargs)]


@pytest.mark.parametrize(
    "text",
    [PARAGRAPH, "  leading and trailing spaces  ", "One.\n\nTwo\nThree", "a" * 1000, "x"],
)
def test_clauses_partition_the_text_with_offsets(text):
    clauses = split_clauses(text)
    assert "".join(c.text for c in clauses) == text
    for clause in clauses:
        assert text[clause.start : clause.start + len(clause.text)] == clause.text
        assert len(clause.speakable) == len(clause.text)


def test_first_clause_ends_at_the_first_comma():
    assert _texts(PARAGRAPH)[0] == "When the lights went out, "


def test_first_clause_without_punctuation_is_a_few_words():
    first = _texts("the quick brown fox jumps over the lazy dog again and again")[0]
    assert first == "the quick brown fox jumps over "


def test_later_clauses_are_sentences():
    texts = _texts(PARAGRAPH)
    assert texts[1] == "everyone in the hall fell silent. "
    assert texts[2] == "Then a child laughed; the tension broke. "
    # "Dr." is an abbreviation, not the end of a sentence.
    assert texts[3] == "Dr. Smith lit a candle and said: let's carry on!"


def test_unpunctuated_text_is_cut_at_word_boundaries_into_bounded_chunks():
    words = [f"word{i}" for i in range(400)]
    text = " ".join(words)
    clauses = split_clauses(text)
    assert len(clauses) > 10
    for clause in clauses:
        assert len(clause.text.rstrip()) <= MAX_CHUNK_CHARS
        assert all(piece in words for piece in clause.text.split())


def test_a_word_longer_than_the_limit_is_cut():
    clauses = split_clauses("z" * (3 * MAX_CHUNK_CHARS + 5))
    assert [len(c.text) for c in clauses] == [MAX_CHUNK_CHARS] * 3 + [5]


def test_long_sentence_breaks_at_clause_punctuation_first():
    sentence = "alpha beta gamma delta, " + ("epsilon " * 30) + "zeta, eta theta iota."
    texts = _texts("Hi. " + sentence, max_chars=120)
    assert texts[0] == "Hi. "
    assert all(len(t.rstrip()) <= 120 for t in texts)
    assert texts[1] == "alpha beta gamma delta, "


def test_unspeakable_characters_become_spaces_keeping_offsets():
    text = "Hi 👋🏽 there\u200b,\u202e ok\x07 \ud83d!"
    speakable = speakable_text(text)
    assert len(speakable) == len(text)
    assert speakable.split() == ["Hi", "there", ",", "ok", "!"]


def test_text_with_nothing_speakable_has_no_clauses():
    assert split_clauses("  🎉🎉 \u200d\n") == []
