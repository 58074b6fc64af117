"""Pronunciation rules reach every engine: aliases are said instead, phonemes as written.

What Whisper hears is the proof: an alias's words, and the word a phoneme rule spells out. The
alignment stays that of the text as sent.
"""

from __future__ import annotations

import numpy as np
import pytest
from engine_voices import voices_of_engines

from xiwidgets.server.engines import SynthesisSettings
from xiwidgets.server.engines.espeak_engine import PhonemeMnemonics
from xiwidgets.server.lexicon import Lexicon, PronunciationRule
from xiwidgets.server.phonemes import PhonemeNotationError, to_ipa


def _say(synthesizer, text, voice, rules):
    chunks = list(synthesizer.synthesize(text, voice, SynthesisSettings(seed=7), Lexicon(rules)))
    return np.concatenate([c.pcm for c in chunks]), chunks[0].sample_rate, chunks


def _heard_words(hear, pcm, rate):
    return hear(pcm, rate).lower().replace(",", " ").replace(".", " ").split()


@pytest.mark.parametrize("voice", voices_of_engines())
def test_an_alias_rule_is_said_instead_of_its_word(synthesizer, transcribe, voice):
    text = "The capital is Zqx and we love it."
    rule = PronunciationRule("Zqx", "alias", alias="London")
    pcm, rate, chunks = _say(synthesizer, text, voice, [rule])
    assert "london" in _heard_words(transcribe, pcm, rate)
    # The alignment is of the characters as sent, not of the alias.
    assert "".join(c.text for c in chunks) == text
    for chunk in chunks:
        assert len(chunk.char_starts) == len(chunk.text) == len(chunk.char_ends)


# IPA on every engine; Arpabet (converted to IPA first) on one.
_PHONEME_CASES = [
    pytest.param(voice.values[0], "/ˈɡɹiːn/", "ipa", id=f"{voice.id}-ipa", marks=voice.marks)
    for voice in voices_of_engines()
] + [
    pytest.param(voice.values[0], "G R IY1 N", "cmu-arpabet", id=f"{voice.id}-arpabet")
    for voice in voices_of_engines()
    if voice.id == "espeak"
]


@pytest.mark.parametrize(("voice", "phoneme", "alphabet"), _PHONEME_CASES)
def test_a_phoneme_rule_makes_the_engine_say_other_phonemes(
    synthesizer, transcribe, voice, phoneme, alphabet
):
    text = "My favourite colour is red."
    plain, rate, _ = _say(synthesizer, text, voice, [])
    rule = PronunciationRule("red", "phoneme", phoneme=phoneme, alphabet=alphabet)
    ruled, _, chunks = _say(synthesizer, text, voice, [rule])
    assert "red" in _heard_words(transcribe, plain, rate)
    heard = _heard_words(transcribe, ruled, rate)
    assert "green" in heard and "red" not in heard
    assert "".join(c.text for c in chunks) == text


def test_rules_match_whole_words_and_case_as_asked():
    rules = [
        PronunciationRule("UN", "alias", alias="United Nations"),
        PronunciationRule("nyc", "alias", alias="New York", case_sensitive=False),
        PronunciationRule("ph", "alias", alias="f", word_boundaries=False),
    ]
    lexicon = Lexicon(rules)
    assert lexicon.render("UN, un, UNder").text == "United Nations, un, UNder"
    assert lexicon.render("NYC or Nyc").text == "New York or New York"
    assert lexicon.render("phone graph").text == "fone graf"


def test_alias_times_cover_the_whole_replaced_word():
    lexicon = Lexicon([PronunciationRule("UN", "alias", alias="United Nations")])
    rendering = lexicon.render("at UN now")
    said = rendering.text  # "at United Nations now"
    starts = [float(i) for i in range(len(said))]
    ends = [float(i + 1) for i in range(len(said))]
    sent_starts, sent_ends = rendering.times_as_sent(starts, ends)
    assert len(sent_starts) == len("at UN now")
    # "U" and "N" both span "United Nations" (characters 3..17 of what was said).
    assert sent_starts[3:5] == [3.0, 3.0] and sent_ends[3:5] == [17.0, 17.0]
    # " now" keeps its own times, shifted back to where it was sent.
    assert sent_starts[5:] == starts[17:]


def test_arpabet_becomes_ipa_and_bad_notations_are_refused():
    assert to_ipa("T AH0 M EY1 T OW2", "cmu-arpabet") == "təmˈeɪtˌoʊ"
    assert to_ipa("/ˈtaɪ.lænd/", "ipa") == "ˈtaɪlænd"
    with pytest.raises(PhonemeNotationError, match="not CMU Arpabet"):
        to_ipa("T XX1", "cmu-arpabet")
    with pytest.raises(PhonemeNotationError, match="not supported"):
        to_ipa("abc", "x-sampa")
    with pytest.raises(PhonemeNotationError, match="no phonemes"):
        to_ipa("//", "ipa")


def test_espeak_mnemonics_come_from_espeak_pairs():
    table = PhonemeMnemonics([("t", "t"), ("ə", "@"), ("m", "m"), ("ɑː", "A:"), ("oʊ", "oU")])
    # A length mark the table lacks is tried away; the stress mark is espeak's.
    assert table.convert("təˈmɑtoʊ") == "t@'mA:toU"
