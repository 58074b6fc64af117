"""Speech must be understood: transcribe our own output with an offline Whisper model."""

from __future__ import annotations

import re

import pytest
from engine_voices import ESPEAK_FEMALE, JOE

PARAGRAPH = (
    "The museum in our city opens at ten every morning. Visitors can walk through rooms full "
    "of old maps, paintings and musical instruments. On weekends, families bring their "
    "children to the science hall, where they can build bridges out of wooden blocks. The "
    "cafe on the top floor serves fresh bread, soup and hot chocolate."
)
# Whisper writes small numbers as digits; the reference spells them.
_NUMBER_WORDS = dict(
    enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
               "ten", "eleven", "twelve"])
)


def _words(text: str) -> list[str]:
    words = re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("-", " ")).split()
    return [_NUMBER_WORDS.get(int(w), w) if w.isdigit() else w for w in words]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over words divided by the number of reference words."""
    ref, hyp = _words(reference), _words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, hyp_word in enumerate(hyp, 1):
            previous, row[j] = row[j], min(
                row[j] + 1, row[j - 1] + 1, previous + (ref_word != hyp_word)
            )
    return row[-1] / len(ref)


def test_word_error_rate_counts_substitutions_insertions_and_deletions():
    assert word_error_rate("the cat sat", "The cat, sat.") == 0.0
    assert word_error_rate("the cat sat", "the dog sat down") == pytest.approx(2 / 3)
    assert word_error_rate("the cat sat", "cat sat") == pytest.approx(1 / 3)
    assert word_error_rate("opens at ten", "Opens at 10.") == 0.0


def test_joe_reads_a_paragraph_intelligibly(take, transcribe):
    pcm, rate, _ = take(PARAGRAPH, JOE, seed=1)
    heard = transcribe(pcm, rate)
    assert word_error_rate(PARAGRAPH, heard) <= 0.05, heard


def test_espeak_english_is_intelligible(take, transcribe):
    # Formant synthesis is robotic; a recognizer trained on human speech mishears some
    # words, so the bound is looser than Joe's, yet far below the ~100 % of noise or of
    # the wrong language.
    pcm, rate, _ = take(PARAGRAPH, ESPEAK_FEMALE, seed=1)
    heard = transcribe(pcm, rate)
    assert word_error_rate(PARAGRAPH, heard) <= 0.2, heard
