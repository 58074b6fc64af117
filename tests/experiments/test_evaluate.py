"""evaluate(): figures of real takes from the local server, and its errors."""

from __future__ import annotations

import math
import sys

import pandas as pd
import pytest

from xiwidgets.client import Take
from xiwidgets.experiments import METRICS, MissingExtraError, evaluate, word_error_rate
from xiwidgets.whisper_model import load_whisper

# The second take has two sentences: a transcriber that stops at the first one shows.
SENTENCES = ("The museum in our city opens at ten every morning.",
             "Visitors walk through rooms full of old maps. The cafe serves hot chocolate.")


@pytest.fixture(scope="module")
def takes(client) -> list[Take]:
    return [client.tts.convert("Joe", text=SENTENCES[0], seed=1, output_format="pcm_16000"),
            client.tts.convert("Joe", text=SENTENCES[1], seed=1, output_format="mp3_44100_128")]


@pytest.fixture(scope="module")
def scores(takes) -> pd.DataFrame:
    return evaluate(takes)


def test_one_row_per_take_with_every_figure(scores, takes):
    assert list(scores.columns) == ["text", "duration", "speaking_rate", "wer", "transcript",
                                    "loudness", "dnsmos", "pitch"]
    assert list(scores["text"]) == list(SENTENCES)  # each take's own text, kept by the client
    assert list(scores["duration"]) == pytest.approx([t.duration for t in takes])


def test_the_figures_are_those_of_clear_speech(scores):
    for _, row in scores.iterrows():
        assert row["wer"] <= 0.1, row["transcript"]
        assert 100 <= row["speaking_rate"] <= 260
        assert -35 <= row["loudness"] <= -8
        assert 1.0 <= row["dnsmos"] <= 5.0
        assert 70 <= row["pitch"] <= 250  # a man's voice


def test_the_wrong_text_gives_a_high_word_error_rate(takes):
    wrong = evaluate(takes[:1], texts=["Completely different words were expected here."],
                     metrics="wer")
    assert list(wrong.columns) == ["text", "wer", "transcript"]
    assert wrong["wer"][0] >= 0.7


def test_word_error_rate_ignores_case_punctuation_and_digits():
    assert word_error_rate("Opens at ten, every day.", "opens at 10 every day") == 0.0
    assert word_error_rate("the cat sat", "the dog sat down") == pytest.approx(2 / 3)


def test_an_unknown_metric_lists_the_known_ones(takes):
    with pytest.raises(ValueError, match="speaking_rate") as error:
        evaluate(takes, metrics=["wer", "mos"])
    assert "'mos'" in str(error.value) and all(name in str(error.value) for name in METRICS)


def test_a_missing_package_names_the_extra_before_anything_is_measured(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyloudnorm", None)
    undecodable = Take(b"no audio here")  # would fail if it were decoded first
    with pytest.raises(MissingExtraError, match=r"pyloudnorm.*xiwidgets\[eval\]"):
        evaluate([undecodable], metrics=["duration", "loudness"])


def test_texts_must_match_the_takes(takes):
    with pytest.raises(ValueError, match="one text per take"):
        evaluate(takes, texts=["only one"], metrics="duration")


def test_too_short_for_loudness_is_nan_not_an_error():
    silence = Take(b"\x00\x00" * 1600, output_format="pcm_16000")  # 0.1 s
    row = evaluate([silence], metrics=["loudness", "duration"]).iloc[0]
    assert math.isnan(row["loudness"]) and row["duration"] == pytest.approx(0.1)


def _words(text: str) -> list[str]:
    return text.lower().replace(".", " ").replace(",", " ").split()


@pytest.fixture
def whisper_windows(monkeypatch) -> list[int]:
    """Counts the windows Whisper's encoder reads (a spy on the real model, which still runs)."""
    model = load_whisper()
    encode, windows = model.encode, []
    monkeypatch.setattr(model, "encode", lambda *a, **k: windows.append(1) or encode(*a, **k))
    return windows


def test_takes_sharing_a_whisper_window_each_get_their_own_words(takes, whisper_windows):
    # Three short takes fit one 30 s window: each must come back with its own words only.
    packed = evaluate([takes[0], takes[1], takes[0]], metrics="wer")
    assert len(whisper_windows) < 3  # they did share: one window each would be three
    for own, row in zip((SENTENCES[0], SENTENCES[1], SENTENCES[0]), packed.itertuples(),
                        strict=True):
        assert word_error_rate(own, row.transcript) <= 0.1, row.transcript
    assert word_error_rate(SENTENCES[1], packed["transcript"][0]) >= 0.7


def test_no_word_crosses_to_the_neighbouring_take(takes):
    packed = evaluate([takes[1], takes[0], takes[1]], metrics="wer")
    first, middle, last = (_words(t) for t in packed["transcript"])
    # The words next to the silence between two takes are the ones that could cross it.
    assert middle[0] == "the" and middle[-1] == "morning", middle
    assert first[0] == last[0] == "visitors" and first[-1] == last[-1] == "chocolate"
    only_in_the_other = set(_words(SENTENCES[1])) - set(_words(SENTENCES[0]))
    assert not only_in_the_other & set(middle), middle
    assert not set(_words(SENTENCES[0])) - {"the"} & set(first + last), (first, last)


def test_a_silent_take_between_spoken_ones_hears_nothing(takes):
    silence = Take(b"\x00\x00" * 32000, output_format="pcm_16000",
                   text="Nothing is said here.")  # 2 s
    scores = evaluate([takes[0], silence, takes[1]], metrics="wer")
    assert scores["transcript"][1] == "" and scores["wer"][1] == 1.0
    assert word_error_rate(SENTENCES[0], scores["transcript"][0]) <= 0.1
    assert word_error_rate(SENTENCES[1], scores["transcript"][2]) <= 0.1
