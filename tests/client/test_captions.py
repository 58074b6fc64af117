"""Words and captions of timed takes, read back by the standard SRT and WebVTT parsers."""

from __future__ import annotations

import io
import itertools

import pytest
import srt
import webvtt

from xiwidgets.client import Alignment, Take, TimedTake
from xiwidgets.client.captions import Word, words_from_alignment
from xiwidgets.client.types import NoAlignmentError

LONG = ("Captions have to be short enough to read. This paragraph is long on purpose, so that "
        "it needs several cues: each one holds a single line of words, never more than forty "
        "two characters, and never shows for longer than seven seconds — even when a speaker "
        "goes on and on without a full stop, as this sentence does, word after word after word "
        "after word.")


@pytest.fixture(scope="module")
def timed(server) -> TimedTake:
    from xiwidgets.client import Client

    with Client(base_url=server.base_url) as client:
        return client.tts.convert_with_timestamps("Joe", text=LONG, seed=5,
                                                  output_format="pcm_16000")


def test_words_follow_the_text_with_punctuation_on_its_word(timed):
    words = timed.words
    assert " ".join(w.text for w in words).split() == LONG.split()
    assert all(any(c.isalnum() for c in w.text) for w in words)  # the lone dash joined a word
    assert "seconds —" in [w.text for w in words]


def test_word_times_never_go_back_and_stay_inside_the_audio(timed):
    words = timed.words
    assert words[0].start >= 0 and words[-1].end <= timed.duration
    for before, after in itertools.pairwise(words):
        assert before.start <= before.end <= after.start <= after.end


def _check_cues(cues: list[tuple[float, float, str]], words: list[Word]) -> None:
    assert len(cues) > 5
    assert " ".join(text for _, _, text in cues).split() == " ".join(
        w.text for w in words).split()
    for start, end, text in cues:
        assert "\n" not in text and len(text) <= 42, text
        assert 0 <= end - start <= 7.0
    starts = [start for start, _, _ in cues]
    assert starts == sorted(starts)
    assert cues[0][0] == pytest.approx(words[0].start, abs=1e-3)
    assert cues[-1][1] == pytest.approx(words[-1].end, abs=1e-3)


def test_srt_reads_back_to_the_same_words(timed):
    subtitles = list(srt.parse(timed.to_srt()))
    _check_cues([(s.start.total_seconds(), s.end.total_seconds(), s.content)
                 for s in subtitles], timed.words)


def test_webvtt_reads_back_to_the_same_words(timed):
    captions = webvtt.from_buffer(io.StringIO(timed.to_vtt()))
    _check_cues([(c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000,
                  c.text) for c in captions], timed.words)


def test_save_captions_picks_the_format_from_the_suffix(timed, tmp_path):
    assert timed.save_captions(tmp_path / "take.srt").read_text() == timed.to_srt()
    assert timed.save_captions(tmp_path / "take.VTT").read_text().startswith("WEBVTT")
    with pytest.raises(ValueError, match=r"\.srt or \.vtt"):
        timed.save_captions(tmp_path / "take.txt")


def test_a_take_without_timings_says_which_call_gives_words(timed):
    plain = Take(timed.audio, output_format="pcm_16000")
    for ask in (lambda: plain.words, plain.to_srt, plain.to_vtt):
        with pytest.raises(NoAlignmentError, match=r"convert_with_timestamps"):
            ask()
    with pytest.raises(NoAlignmentError, match=r"convert_with_timestamps"):
        _ = TimedTake(timed.audio, output_format="pcm_16000").words


def _alignment(text: str, starts: list[float], ends: list[float]) -> Alignment:
    return Alignment(tuple(text), tuple(starts), tuple(ends))


def test_words_from_an_untidy_alignment_are_tidied():
    text = '" Hi - yo'  # a lone quote first, a lone dash between
    starts = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.9, 1.0]
    ends = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0, 9.0]
    starts[7] = 0.2  # a word that starts before the previous one ended
    words = words_from_alignment(_alignment(text, starts, ends), duration=2.0)

    assert [w.text for w in words] == ['" Hi -', "yo"]
    assert words[1].start == words[0].end == 0.6 and words[1].end == 2.0


def test_a_word_longer_than_a_line_gets_a_cue_of_its_own():
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis-like"
    take_words = [Word("Look:", 0.0, 0.5), Word(word, 0.6, 3.0), Word("done", 3.1, 3.5)]
    from xiwidgets.client.captions import cues

    assert [c.text for c in cues(take_words)] == ["Look:", word, "done"]


def test_break_tags_are_pauses_in_the_captions_not_words(server):
    from xiwidgets.client import Client

    text = 'Take a deep breath. <break time="1.5s" /> Then carry on.'
    with Client(base_url=server.base_url) as client:
        take = client.tts.convert_with_timestamps("Joe", text=text, seed=5)

    assert [w.text for w in take.words] == ["Take", "a", "deep", "breath.", "Then", "carry",
                                            "on."]
    # The pause is between the words around it.
    assert take.words[4].start - take.words[3].end >= 1.4
    assert "break" not in take.to_srt() and "break" not in take.to_vtt()
