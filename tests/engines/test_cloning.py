"""Voices from samples: samples made at test time, cloned, and the clone's speech measured."""

from __future__ import annotations

import json

import numpy as np
import pytest
from engine_voices import JOE

from xiwidgets.formats import OutputFormat
from xiwidgets.server.audio import make_encoder
from xiwidgets.server.cloning import (
    BASE_VOICES,
    REFERENCE_TEXT,
    SampleError,
    VoiceProfile,
    analyse_samples,
    decode_audio,
    median_f0,
    syllable_rate,
)
from xiwidgets.server.engines import VoiceSpec
from xiwidgets.server.engines.dsp import varispeed
from xiwidgets.wav import wav_bytes

SAMPLE_TEXT = (
    "Every spring the garden fills with birds, and the children count them from the kitchen "
    "window before school."
)
CHECK_TEXT = "We walked along the harbour and watched the fishing boats come home at dusk."


def _encoded(pcm: np.ndarray, rate: int, name: str) -> bytes:
    encoder = make_encoder(OutputFormat.parse(name, streaming=False), rate)
    return encoder.encode(pcm) + encoder.finish()


def test_base_voice_constants_match_what_the_analysis_measures(take):
    for base in BASE_VOICES:
        pcm, rate, _ = take(REFERENCE_TEXT, base.spec, seed=3)
        assert median_f0(pcm, rate) == pytest.approx(base.median_f0_hz, rel=0.05)
        assert syllable_rate(pcm, rate) == pytest.approx(base.syllables_per_second, rel=0.08)


def test_female_sample_gives_a_clone_within_15_percent_of_its_pitch(take):
    sample, rate, _ = take(SAMPLE_TEXT, VoiceSpec("espeak", "en", "en", variant="f4"), seed=1)
    profile = analyse_samples([("amelia.mp3", _encoded(sample, rate, "mp3_44100_128"))])
    clone, clone_rate, _ = take(CHECK_TEXT, profile.voice_spec(), seed=1)
    assert median_f0(clone, clone_rate) == pytest.approx(median_f0(sample, rate), rel=0.15)


def test_raised_joe_sample_is_cloned_on_joe_with_its_pitch(take):
    joe, rate, _ = take(SAMPLE_TEXT, JOE, seed=2)
    raised = varispeed(joe.astype(np.float32) / 32768, rate, 1.3)
    sample = (raised * 32767).astype(np.int16)
    profile = analyse_samples([("raised.wav", wav_bytes(sample.tobytes(), rate))])
    assert profile.engine == "piper"
    assert profile.pitch_factor == pytest.approx(1.3, rel=0.1)
    clone, clone_rate, _ = take(CHECK_TEXT, profile.voice_spec(), seed=2)
    assert median_f0(clone, clone_rate) == pytest.approx(median_f0(sample, rate), rel=0.15)


def test_speaking_rate_of_the_samples_moves_the_clone_the_same_way(take):
    profiles = {}
    for speed in (0.75, 1.2):
        pcm, rate, _ = take(SAMPLE_TEXT, JOE, seed=4, speed=speed)
        profiles[speed] = analyse_samples([("s.ogg", _encoded(pcm, rate, "opus_48000_64"))])
    assert profiles[1.2].rate_factor > 1.15 * profiles[0.75].rate_factor
    slow, rate, _ = take(CHECK_TEXT, profiles[0.75].voice_spec(), seed=4)
    fast, _, _ = take(CHECK_TEXT, profiles[1.2].voice_spec(), seed=4)
    assert len(fast) < 0.85 * len(slow)
    assert syllable_rate(fast, rate) > syllable_rate(slow, rate)


def test_profile_survives_a_json_round_trip():
    profile = VoiceProfile(
        median_f0_hz=180.0, syllables_per_second=5.0, speech_seconds=12.5, engine="espeak",
        engine_voice="en-us", language="en", variant="f1", pitch_factor=0.99,
        rate_factor=1.01, sample_durations=[12.5], analysed_seconds=12.5,
    )
    restored = VoiceProfile.from_dict(json.loads(json.dumps(profile.to_dict())))
    assert restored == profile
    assert restored.voice_spec() == VoiceSpec(
        "espeak", "en-us", "en", pitch_factor=0.99, rate_factor=1.01, variant="f1"
    )


def test_profile_stored_by_an_earlier_version_still_loads():
    stored = {
        "median_f0_hz": 120.0, "syllables_per_second": 4.5, "speech_seconds": 8.0,
        "engine": "piper", "engine_voice": "en_US-joe-medium", "language": "en",
        "variant": None, "pitch_factor": 1.3, "rate_factor": 1.0,
        "sample_durations": {"old.wav": 8.0},
    }
    profile = VoiceProfile.from_dict(stored)
    assert profile.analysed_seconds is None
    assert profile.voice_spec() == VoiceSpec("piper", "en_US-joe-medium", "en", pitch_factor=1.3)


def test_long_samples_are_analysed_up_to_the_cap_and_the_profile_says_so(take, tmp_path):
    pcm, rate, _ = take(SAMPLE_TEXT, JOE, seed=6)
    one = analyse_samples([("one.wav", wav_bytes(pcm.tobytes(), rate))])
    repeats = int(np.ceil(60 * rate / len(pcm)))
    long_pcm = np.tile(pcm, repeats)[: 60 * rate]
    long_wav = wav_bytes(long_pcm.tobytes(), rate)
    path = tmp_path / "long.wav"
    path.write_bytes(long_wav)

    with path.open("rb") as handle:
        profile = analyse_samples(
            [("a.wav", long_wav), ("b.wav", path), ("c.wav", handle)], max_seconds=30
        )

    # Each of the three samples gets its share of the 30 s; their full lengths are still known.
    assert profile.analysed_seconds == pytest.approx(30, abs=0.01)
    assert profile.sample_durations == pytest.approx([60, 60, 60], abs=0.01)
    assert profile.speech_seconds == pytest.approx(180, abs=0.05)
    # The same speech repeated measures as the speech once.
    assert profile.median_f0_hz == pytest.approx(one.median_f0_hz, rel=0.02)
    assert profile.syllables_per_second == pytest.approx(one.syllables_per_second, rel=0.1)
    assert (profile.engine, profile.engine_voice) == (one.engine, one.engine_voice)


def test_several_formats_decode_to_the_same_duration(take):
    pcm, rate, _ = take("A short sample.", JOE, seed=5)
    expected = len(pcm) / rate
    for name in ("mp3_44100_128", "opus_48000_64", "wav_22050", "pcm_16000"):
        data = _encoded(pcm, rate, name)
        if name.startswith("pcm"):
            data = wav_bytes(data, 16000)
        assert len(decode_audio(data)) / 16000 == pytest.approx(expected, abs=0.08), name


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([("notes.txt", b"these are not the droids")], "not an audio file"),
        ([("empty.mp3", b"")], "not an audio file"),
        ([("silence.wav", wav_bytes(bytes(16000 * 4), 16000))], "voiced speech"),
        ([], "at least one"),
    ],
)
def test_unusable_samples_get_a_readable_error(files, message):
    with pytest.raises(SampleError, match=message) as error:
        analyse_samples(files)
    assert isinstance(error.value, ValueError)
    assert "Errno" not in str(error.value)
