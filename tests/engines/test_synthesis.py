"""Both engines, measured on their audio: chunks, alignment, unicode, and every voice setting."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from engine_voices import ESPEAK_FEMALE, ESPEAK_MALE, JOE, engine_ids, voices_of_engines

from xiwidgets.server.audio import speech_rms
from xiwidgets.server.cloning import f0_track, median_f0
from xiwidgets.server.engines import SynthesisSettings, VoiceSpec
from xiwidgets.server.engines.registry import engine_info

SENTENCE = "The quick brown fox jumps over the lazy dog."
TWO_SENTENCES = "Good morning, Anna. The garden is full of birds today."
QUESTION = "Is it really true? I cannot believe it, but I will go and see for myself."


@pytest.mark.parametrize("voice", voices_of_engines(), ids=engine_ids)
def test_chunks_partition_the_text_and_carry_audio(take, voice):
    text = "Hello there, this is a test. It has two sentences! And a third?"
    _, rate, chunks = take(text, voice, seed=1)
    assert "".join(c.text for c in chunks) == text
    assert [c.text_start for c in chunks] == [
        sum(len(p.text) for p in chunks[:i]) for i in range(len(chunks))
    ]
    assert chunks[0].text == "Hello there, "
    assert rate == engine_info(voice.engine).sample_rate
    for chunk in chunks:
        assert chunk.pcm.dtype == np.int16
        assert chunk.duration > 0.2
        assert speech_rms(chunk.pcm.astype(np.float32) / 32768) > 0.01


@pytest.mark.parametrize("voice", voices_of_engines(), ids=engine_ids)
def test_alignment_is_ordered_and_inside_each_chunk(take, voice):
    _, _, chunks = take(TWO_SENTENCES + " It costs 42 euros.", voice, seed=2)
    for chunk in chunks:
        assert len(chunk.char_starts) == len(chunk.char_ends) == len(chunk.text)
        assert chunk.char_starts == sorted(chunk.char_starts)
        assert all(0 <= s <= e <= chunk.duration + 1e-6 for s, e in
                   zip(chunk.char_starts, chunk.char_ends, strict=True))


@pytest.mark.parametrize("voice", voices_of_engines("aligns_characters"), ids=engine_ids)
def test_aligned_words_fall_on_speech_and_the_sentence_pause_on_silence(take, voice):
    # One chunk holding "north. south": the pause after "north." must be where the
    # alignment puts the gap, and each word's span must contain speech.
    text = "Go north. South is closed."
    _, _, chunks = take(text, voice, seed=3)
    chunk = next(c for c in chunks if "South" in c.text)
    samples = chunk.pcm.astype(np.float32) / 32768
    rate = chunk.sample_rate

    def level(start: float, end: float) -> float:
        part = samples[int(start * rate) : max(int(end * rate), int(start * rate) + 1)]
        return float(np.sqrt(np.mean(part**2)))

    index = chunk.text.index("South")
    word = (chunk.char_starts[index], chunk.char_ends[index + 4])
    assert word[1] - word[0] > 0.15
    assert level(*word) > 0.03
    loud = np.flatnonzero(np.abs(samples) > 0.05)
    # The word starts after the audio's first loud sample and ends before its last.
    assert loud[0] / rate - 0.05 <= word[0] and word[1] <= loud[-1] / rate + 0.1


@pytest.mark.parametrize(
    "text",
    ["Hi 👋🏽 there\u200b, friend‮!", "שלום and hello", "Tab\tbell\x07 null\x00 end",
     "lone \ud83d surrogate", "🎉🎉🎉", "Say [[hɛloʊ]] now.", "?! ..."],
)
def test_unicode_text_never_crashes_and_keeps_the_text(take, text):
    for voice in (JOE, ESPEAK_MALE):
        pcm, _, chunks = take(text, voice, seed=4)
        assert "".join(c.text for c in chunks) == text
        assert len(pcm) > 0


def test_unpunctuated_long_text_is_synthesized_in_bounded_chunks(take):
    text = " ".join(["and then the river kept on flowing past the old mill"] * 12)
    _, _, chunks = take(text, ESPEAK_MALE, seed=5)
    assert len(chunks) >= 4
    assert max(c.duration for c in chunks) < 20.0
    assert chunks[0].duration < 3.0


@pytest.mark.parametrize("voice", voices_of_engines("repeats_seed"), ids=engine_ids)
def test_same_seed_gives_identical_bytes_and_other_seeds_differ(take, voice):
    # Two clauses, each spoken with its own seed drawn from the take's (a third clause would
    # cost Kokoro another second a take and check nothing more).
    text = "Good morning. See you soon."
    first, _, _ = take(text, voice, seed=11)
    again, _, _ = take(text, voice, seed=11)
    other, _, _ = take(text, voice, seed=12)
    unseeded, _, _ = take(text, voice)
    assert first.tobytes() == again.tobytes()
    # A deterministic engine (Kokoro) gives the same take whatever the seed.
    varies = engine_info(voice.engine).seed_changes_audio
    assert (first.tobytes() != other.tobytes()) == varies
    assert (first.tobytes() != unseeded.tobytes()) == varies


# The seed drives espeak-ng's breath noise: the female variants breathe, m3 does not, so only
# there do other seeds give other bytes.
@pytest.mark.parametrize(
    ("voice", "seed_matters"), [(ESPEAK_FEMALE, True), (ESPEAK_MALE, False)],
    ids=["espeak-f2", "espeak-m3"],
)
def test_same_seed_repeats_an_espeak_take_even_after_other_takes(take, voice, seed_matters):
    text = "Bonjour, Anna. See you at seven, by the river."
    first, _, _ = take(text, voice, seed=11)
    # In-process, unseeded espeak-ng takes in between move its internal state.
    take("Something else entirely, said in between.", voice)
    take("And one more, with another voice.", ESPEAK_MALE if voice is ESPEAK_FEMALE else JOE)
    again, _, _ = take(text, voice, seed=11)
    other, _, _ = take(text, voice, seed=12)
    assert first.tobytes() == again.tobytes()
    assert (first.tobytes() != other.tobytes()) == seed_matters


def test_takes_in_parallel_threads_equal_the_same_takes_one_by_one(synthesizer):
    jobs = [(JOE, 21), (JOE, 22), (ESPEAK_FEMALE, 0), (ESPEAK_MALE, 0)]
    text = "Threads share the engines, not their results."

    def run(job):
        voice, seed = job
        chunks = synthesizer.synthesize(text, voice, SynthesisSettings(seed=seed))
        return b"".join(chunk.pcm.tobytes() for chunk in chunks)

    alone = [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(run, jobs))
    assert together == alone


@pytest.mark.parametrize("voice", voices_of_engines("native_speed"), ids=engine_ids)
def test_speed_scales_duration_inversely(take, voice):
    text = "Speed changes how long it takes to say the same words."
    durations = {speed: len(take(text, voice, speed=speed, seed=1)[0]) for speed in (0.7, 1, 1.2)}
    for speed in (0.7, 1.2):
        ratio = durations[speed] / durations[1.0]
        assert ratio == pytest.approx(1 / speed, rel=0.12)


def _duration_spread(take, voice, **settings) -> float:
    """Take-to-take coefficient of variation of the audio length over four seeds."""
    lengths = [len(take(QUESTION, voice, seed=seed, **settings)[0]) for seed in range(4)]
    return float(np.std(lengths) / np.mean(lengths))


def test_lower_stability_varies_more_from_take_to_take(take):
    unstable = _duration_spread(take, JOE, stability=0.0)
    stable = _duration_spread(take, JOE, stability=1.0)
    assert unstable > 1.5 * stable


def test_style_adds_prosodic_variation(take):
    styled = _duration_spread(take, JOE, style=1.0)
    plain = _duration_spread(take, JOE, style=0.0)
    assert styled > 1.5 * plain


def _semitone_spread(pcm: np.ndarray, rate: int) -> float:
    f0 = f0_track(pcm.astype(np.float32) / 32768, rate)
    voiced = f0[f0 > 0]
    return float(np.std(12 * np.log2(voiced / np.median(voiced))))


def test_lower_stability_widens_espeak_intonation(take):
    wide = _semitone_spread(*take(QUESTION, ESPEAK_FEMALE, stability=0.0)[:2])
    narrow = _semitone_spread(*take(QUESTION, ESPEAK_FEMALE, stability=1.0)[:2])
    assert wide > 1.5 * narrow


def test_speaker_boost_evens_out_loudness_across_voices(take):
    def levels(boost: bool) -> list[float]:
        out = []
        for voice in (JOE, ESPEAK_FEMALE, ESPEAK_MALE):
            for chunk in take(TWO_SENTENCES, voice, seed=6, use_speaker_boost=boost)[2]:
                out.append(20 * np.log10(speech_rms(chunk.pcm.astype(np.float32) / 32768)))
        return out

    boosted, raw = levels(True), levels(False)
    assert max(boosted) - min(boosted) < 1.5
    assert max(raw) - min(raw) > 2 * (max(boosted) - min(boosted))
    assert np.mean(boosted) == pytest.approx(-20, abs=1.0)


@pytest.mark.parametrize("engine_voice", voices_of_engines("bases_clones"), ids=engine_ids)
def test_similarity_boost_sets_how_much_of_a_clone_pitch_applies(take, engine_voice):
    clone = VoiceSpec(
        engine_voice.engine, engine_voice.engine_voice, "en", pitch_factor=1.5,
        variant=engine_voice.variant,
    )
    base_f0 = median_f0(*take(SENTENCE, engine_voice, seed=7)[:2])
    full_f0 = median_f0(*take(SENTENCE, clone, seed=7, similarity_boost=0.75)[:2])
    none_f0 = median_f0(*take(SENTENCE, clone, seed=7, similarity_boost=0.0)[:2])
    assert full_f0 / base_f0 == pytest.approx(1.5, rel=0.1)
    assert none_f0 / base_f0 == pytest.approx(1.0, rel=0.08)


def test_default_settings_match_the_api_defaults():
    settings = SynthesisSettings()
    assert (settings.stability, settings.similarity_boost, settings.style) == (0.5, 0.75, 0.0)
    assert settings.use_speaker_boost is True and settings.speed == 1.0
