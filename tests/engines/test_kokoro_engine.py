"""The Kokoro engine: blends, G2P language, isolation from espeak, and (with assets) real takes.

The capability checks every engine passes (chunks, alignment, seeds, speed) run for Kokoro in
test_synthesis; these are the Kokoro-specific ones. Tests that speak need the installed
assets and skip without them.
"""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest
from engine_voices import ESPEAK_FEMALE, KOKORO, needs_kokoro_assets
from test_intelligibility import PARAGRAPH, word_error_rate

from xiwidgets.server.engines import SynthesisSettings, VoiceSpec
from xiwidgets.server.engines.espeak_engine import EspeakEngine
from xiwidgets.server.engines.kokoro_engine import (
    _PHONEMIZERS,
    BlendError,
    KokoroEngine,
    KokoroUnavailableError,
    espeak_language,
    format_blend,
    mix_voices,
    normalize_blend,
    parse_blend,
    voice_vectors,
)

KNOWN = {"af_bella", "af_sarah", "bm_george"}


def test_a_blend_normalizes_its_weights_and_round_trips():
    blend = parse_blend("af_bella*3 + af_sarah*1", KNOWN)
    assert blend == [("af_bella", 0.75), ("af_sarah", 0.25)]
    assert parse_blend(format_blend(blend), KNOWN) == blend
    assert parse_blend("bm_george", KNOWN) == [("bm_george", 1.0)]


@pytest.mark.parametrize(
    ("blend", "message"),
    [
        ("af_bella*0+af_sarah*0", "sum to a positive number"),
        ("af_bella*-1", "not a Kokoro voice name"),
        ("af_bella*0.5+af_nobody*0.5", "'af_nobody' is not a Kokoro voice"),
        ("af_bella+af_bella", "appears twice"),
        ("", "not a Kokoro voice name"),
    ],
)
def test_bad_blends_are_refused_with_the_reason(blend, message):
    with pytest.raises(BlendError, match=message):
        parse_blend(blend, KNOWN)


def test_the_voice_accent_picks_the_g2p_unless_the_language_changes():
    assert espeak_language(VoiceSpec("kokoro", "bm_george", "en")) == "en-gb"
    assert espeak_language(VoiceSpec("kokoro", "af_bella*0.5+bm_george*0.5", "en")) == "en-us"
    assert espeak_language(VoiceSpec("kokoro", "ff_siwis", "fr")) == "fr-fr"
    # An English-only model reading a French voice's text: English rules.
    assert espeak_language(VoiceSpec("kokoro", "ff_siwis", "en")) == "en-us"
    with pytest.raises(ValueError, match="do not speak language 'de'"):
        espeak_language(VoiceSpec("kokoro", "af_bella", "de"))


def test_kokoro_g2p_and_the_espeak_engine_do_not_share_espeak_state():
    # Both use espeak-ng, which is one global state per loaded library: Kokoro's phonemizer
    # loads its own copy, so French espeak takes running meanwhile cannot change its output.
    text = "The weather is lovely today, isn't it?"
    expected = _PHONEMIZERS.phonemize(text, "en-us")
    espeak = EspeakEngine()
    espeak.load()
    french = VoiceSpec("espeak", "fr", "fr", variant="f4")
    stop = threading.Event()

    def speak_french() -> None:
        while not stop.is_set():
            espeak.synthesize_clause("Bonjour, comment allez-vous?", french,
                                     SynthesisSettings(), 1)

    worker = threading.Thread(target=speak_french)
    worker.start()
    try:
        heard = [_PHONEMIZERS.phonemize(text, "en-us") for _ in range(20)]
    finally:
        stop.set()
        worker.join()
    assert heard == [expected] * 20
    assert "ð" in expected  # English phonemes, not French ones


@needs_kokoro_assets
def test_a_kokoro_take_is_24_khz_aligned_and_paced_by_speed(take):
    text = "Good morning, Anna."
    pcm, rate, chunks = take(text, KOKORO)
    assert rate == 24000 and {chunk.sample_rate for chunk in chunks} == {24000}
    assert 0.5 < len(pcm) / rate < 4
    for chunk in chunks:
        assert chunk.char_starts == sorted(chunk.char_starts)
        assert all(0 <= s <= e <= chunk.duration + 1e-6
                   for s, e in zip(chunk.char_starts, chunk.char_ends, strict=True))
    # "Anna" is spoken, and takes audible time, inside its chunk.
    last = chunks[-1]
    index = last.text.index("Anna")
    assert last.char_ends[index + 3] - last.char_starts[index] > 0.15
    faster, _, _ = take(text, KOKORO, speed=1.2)
    assert len(faster) / len(pcm) == pytest.approx(1 / 1.2, rel=0.15)
    again, _, _ = take(text, KOKORO, seed=123)
    assert again.tobytes() == pcm.tobytes()  # deterministic: the seed changes nothing


@needs_kokoro_assets
def test_a_blend_is_the_weighted_mix_of_its_voices_and_speaks(synthesizer, take):
    engine = synthesizer.engine_for(KOKORO)
    mixed = engine.style_vector("af_bella*0.25+bm_george*0.75")
    expected = 0.25 * engine.style_vector("af_bella") + 0.75 * engine.style_vector("bm_george")
    np.testing.assert_allclose(mixed, expected, rtol=1e-5, atol=1e-6)
    text = "A new voice."
    blended, _, _ = take(text, VoiceSpec("kokoro", "af_bella*0.5+bm_george*0.5", "en"))
    bella, _, _ = take(text, VoiceSpec("kokoro", "af_bella", "en"))
    assert blended.tobytes() != bella.tobytes() and np.abs(blended).max() > 3000


@needs_kokoro_assets
def test_kokoro_reads_a_paragraph_intelligibly(take, transcribe):
    pcm, rate, _ = take(PARAGRAPH, KOKORO)
    heard = transcribe(pcm, rate)
    assert word_error_rate(PARAGRAPH, heard) <= 0.05, heard


@needs_kokoro_assets
def test_the_kokoro_and_espeak_engines_speak_side_by_side(synthesizer):
    # A Kokoro take and an espeak take in parallel equal the same takes one after the other.
    jobs = [("Side by side.", KOKORO, None), ("Side by side.", ESPEAK_FEMALE, 5)]

    def run(job):
        text, voice, seed = job
        chunks = synthesizer.synthesize(text, voice, SynthesisSettings(seed=seed))
        return b"".join(chunk.pcm.tobytes() for chunk in chunks)

    alone = [run(job) for job in jobs]
    results: list[bytes | None] = [None, None]

    def worker(index: int) -> None:
        results[index] = run(jobs[index])

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == alone


def test_missing_assets_are_announced_once_with_the_install_command(tmp_path, caplog):
    # Several servers in one process: one line, not one per server.
    with caplog.at_level(logging.WARNING, logger="xiwidgets.server.engines.kokoro_engine"):
        for _ in range(3):
            KokoroEngine(tmp_path / "none").load()
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 1 and "`xiwidgets voices install`" in lines[0]
    assert "Joe and the espeak-ng voices work without them" in lines[0]
    with pytest.raises(KokoroUnavailableError, match="not installed"):
        KokoroEngine(tmp_path / "none").synthesize_clause(
            "Hello.", KOKORO, SynthesisSettings(), 0
        )


def test_a_blend_given_as_weights_is_checked_and_normalized():
    assert normalize_blend({"af_bella": 3, "bm_george": 1}, KNOWN) == [
        ("af_bella", 0.75), ("bm_george", 0.25)
    ]
    assert normalize_blend([("af_sarah", 0.2)], KNOWN) == [("af_sarah", 1.0)]
    for bad, message in [
        ({}, "at least one voice"),
        ({"af_bella": float("nan")}, "finite number"),
        ({"af_bella": float("inf"), "af_sarah": 1}, "finite number"),
        ({"af_bella": -0.5, "af_sarah": 1}, "finite number >= 0"),
        ({"af_bella": 0.0}, "sum to a positive number"),
        ({"am_joe": 1.0}, "'am_joe' is not a Kokoro voice"),
    ]:
        with pytest.raises(BlendError, match=message):
            normalize_blend(bad, KNOWN)


@needs_kokoro_assets
def test_mix_voices_is_the_normalized_weighted_sum_of_the_vectors():
    vectors = voice_vectors()
    mixed = mix_voices({"af_bella": 1, "bm_george": 3})
    assert mixed.shape == (510, 1, 256) and mixed.dtype == np.float32
    expected = 0.25 * vectors["af_bella"] + 0.75 * vectors["bm_george"]
    np.testing.assert_allclose(mixed, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(mix_voices([("af_sarah", 5.0)]), vectors["af_sarah"])
    with pytest.raises(BlendError, match="'zz_nobody' is not a Kokoro voice"):
        mix_voices({"zz_nobody": 1})


def test_mix_voices_without_the_assets_says_how_to_install(tmp_path):
    with pytest.raises(KokoroUnavailableError, match="`xiwidgets voices install`"):
        mix_voices({"af_bella": 1}, tmp_path / "none")
