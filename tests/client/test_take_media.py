"""A take as data: samples in every output format, the notebook player, what made the take."""

from __future__ import annotations

import base64
import re
import sys

import numpy as np
import pytest

from xiwidgets.client import Take, TimedTake, VoiceSettings

SENTENCE = "A take is a notebook object now."
FORMATS = {"mp3_44100_128": 44100, "mp3_22050_32": 22050, "opus_48000_64": 48000,
           "pcm_16000": 16000, "ulaw_8000": 8000, "alaw_8000": 8000, "wav_44100": 44100}


@pytest.fixture(scope="module")
def takes(server) -> dict[str, Take]:
    from xiwidgets.client import Client

    with Client(base_url=server.base_url) as client:
        return {fmt: client.tts.convert("Joe", text=SENTENCE, seed=3, output_format=fmt)
                for fmt in FORMATS}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_decodes_to_mono_float_samples_of_the_same_length(takes, fmt):
    take, reference = takes[fmt], takes["pcm_16000"]
    expected = len(reference.audio) / 2 / 16000  # 16-bit mono PCM: the length by definition

    samples = take.samples
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert take.sample_rate == FORMATS[fmt]
    assert np.abs(samples).max() > 0.1 and np.abs(samples).max() <= 1.0
    # MP3 frames add the encoder's delay and padding (under 0.1 s); the rest is exact.
    tolerance = 0.1 if fmt.startswith("mp3") else 0.01
    assert take.duration == pytest.approx(expected, abs=tolerance)
    assert take.duration == pytest.approx(len(samples) / take.sample_rate)


def test_samples_are_decoded_once_and_cannot_be_changed_in_place(takes):
    take = takes["mp3_44100_128"]
    assert take.samples is take.samples
    with pytest.raises(ValueError):
        take.samples[0] = 1.0
    assert take == Take(take.audio, take.info, **{
        name: getattr(take, name) for name in ("text", "voice_id", "voice_name", "model_id",
                                               "voice_settings", "seed", "output_format")})


def test_takes_remember_the_request_that_made_them(client, voice_id):
    take = client.tts.convert("Joe", text=SENTENCE, model_id="eleven_multilingual_v2",
                              voice_settings=VoiceSettings(stability=0.3, speed=0.9), seed=7,
                              output_format="pcm_16000", language_code="en")

    assert (take.text, take.voice_id, take.voice_name) == (SENTENCE, voice_id, "Joe")
    assert take.model_id == "eleven_multilingual_v2" and take.seed == 7
    assert take.voice_settings == VoiceSettings(stability=0.3, speed=0.9)
    assert take.output_format == "pcm_16000" and take.options == {"language_code": "en"}
    assert 0 < take.time_to_first_byte <= take.total_time
    timed = client.tts.convert_with_timestamps(voice_id, text=SENTENCE, seed=7)
    assert timed.voice_name is None and timed.voice_id == voice_id and timed.seed == 7
    assert timed.output_format == "mp3_44100_128" and timed.content_type == "audio/mpeg"
    assert timed.total_time >= timed.time_to_first_byte > 0


def _player(html: str) -> tuple[str, bytes, str]:
    match = re.search(r'<audio[^>]*src="data:([^;]+);base64,([^"]+)"', html)
    assert match, html[:200]
    line = re.sub(r"<[^>]+>", " ", html.split("</audio>", 1)[1])
    return match.group(1), base64.b64decode(match.group(2)), " ".join(line.split())


def test_a_take_as_the_value_of_a_cell_is_a_player_keeping_the_compressed_audio(takes):
    take = takes["mp3_44100_128"]
    media_type, audio, line = _player(take._repr_html_())

    assert media_type == "audio/mpeg" and audio == take.audio  # not re-encoded as WAV
    assert "Joe" in line and f"{take.duration:.2f} s" in line
    assert f"{take.character_cost} characters billed" in line and take.request_id in line
    opus_type, opus_audio, _ = _player(takes["opus_48000_64"]._repr_html_())
    assert opus_type == "audio/ogg" and opus_audio == takes["opus_48000_64"].audio


@pytest.mark.parametrize("fmt", ["pcm_16000", "ulaw_8000"])
def test_raw_samples_play_as_wav_because_no_browser_plays_them_raw(takes, fmt):
    media_type, audio, _ = _player(takes[fmt]._repr_html_())
    assert media_type == "audio/wav" and audio[:4] == b"RIFF"
    again = Take(audio, output_format="wav_" + fmt.split("_")[1])
    assert again.duration == pytest.approx(takes[fmt].duration, abs=1e-3)


def test_the_metadata_line_is_escaped(takes):
    take = takes["pcm_16000"]
    hostile = Take(take.audio, take.info, voice_name="<script>alert(1)</script>",
                   output_format="pcm_16000")
    assert "<script>" not in hostile._repr_html_()


def test_a_take_of_unknown_format_says_what_it_needs():
    with pytest.raises(ValueError, match="output_format"):
        _ = Take(b"\x00\x01" * 100).samples
    with pytest.raises(ValueError, match="output_format"):
        _ = Take(b"\x00\x01" * 100, output_format="pcm").samples
    with pytest.raises(ValueError, match="not mp3 audio"):
        _ = Take(b"not audio at all" * 10, output_format="mp3_44100_128").samples


def test_samples_without_the_decoder_name_the_extra_to_install(takes, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)
    fresh = Take(takes["pcm_16000"].audio, output_format="pcm_16000")
    with pytest.raises(ImportError, match=r"xiwidgets\[audio\]"):
        _ = fresh.samples


def test_an_empty_take_has_no_samples_and_no_duration():
    take = TimedTake(b"", output_format="pcm_16000")
    assert take.samples.shape == (0,) and take.duration == 0.0
