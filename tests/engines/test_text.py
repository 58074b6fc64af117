"""Clause splitting: what the engines are fed, chunk by chunk."""

from __future__ import annotations

import pytest

from xiwidgets.server.text import MAX_CHUNK_CHARS, has_speech, speakable_text, split_clauses

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


def test_a_break_tag_ends_its_clause_is_blank_and_gives_the_pause():
    text = 'Take a deep breath. <break time="1.5s" /> Then carry on.'
    clauses = split_clauses(text, first_max_words=10)

    assert [c.text for c in clauses] == ['Take a deep breath. <break time="1.5s" /> ',
                                        "Then carry on."]
    assert clauses[0].speakable.split() == ["Take", "a", "deep", "breath."]
    assert [(c.pause_before, c.pause_after) for c in clauses] == [(0.0, 1.5), (0.0, 0.0)]


def test_break_tags_mid_sentence_at_the_start_and_inside_a_word():
    clauses = split_clauses('<break time="1s"/>Hello <BREAK TIME="250ms"/>wor<break/>ld')

    assert [c.speakable.split() for c in clauses] == [["Hello"], ["wor"], ["ld"]]
    assert [(c.pause_before, c.pause_after) for c in clauses] == [
        (1.0, 0.25), (0.0, 0.5), (0.0, 0.0)]


def test_tags_side_by_side_are_one_pause_of_at_most_three_seconds():
    clauses = split_clauses('Wait.<break time="3s"/><break time="3s"/> <break time="9s"/> Go.')

    assert clauses[0].pause_after == 3.0
    assert split_clauses('Wait.<break time="10s"/> Go.')[0].pause_after == 3.0


def test_what_is_not_a_break_tag_is_spoken():
    text = "Eat <breakfast> at 8 < 9, I need a <break from all this> and break time is over."
    assert [c.speakable for c in split_clauses(text)] == [c.text for c in split_clauses(text)]
    assert all(c.pause_after == 0 for c in split_clauses(text))


def test_a_text_of_break_tags_only_has_nothing_to_say():
    assert not has_speech('<break time="2s"/> <break/>')
    assert split_clauses('<break time="2s"/> <break/>') == []
    assert has_speech('<break time="2s"/> ok')
