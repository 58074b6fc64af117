"""The engine registry: every voice's engine is there, claims hold, and a new engine plugs in.

The audio checks of each capability live in test_synthesis, parametrized by the registry's
claims (see engine_voices.voices_of_engines); the checks here are the ones that need no
other engine's audio.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pytest
from engine_voices import ENGINE_TEST_VOICES, engine_marks

from xiwidgets.server.audio import speech_rms
from xiwidgets.server.catalog import PREMADE_VOICES, get_model, preview_text
from xiwidgets.server.cloning import BASE_VOICES
from xiwidgets.server.engines import SynthesisSettings, Synthesizer, VoiceSpec
from xiwidgets.server.engines.base import ClauseAudio
from xiwidgets.server.engines.registry import (
    EngineInfo,
    engine_info,
    register,
    registered_engines,
    unregister,
)


def test_every_registered_engine_has_a_voice_the_capability_checks_speak_with():
    assert set(ENGINE_TEST_VOICES) == {info.name for info in registered_engines()}
    for name, voice in ENGINE_TEST_VOICES.items():
        assert voice.engine == name


def test_every_premade_and_clone_base_voice_is_spoken_by_a_registered_engine():
    for voice in PREMADE_VOICES:
        assert voice.spec.language in engine_info(voice.spec.engine).languages
    for base in BASE_VOICES:
        assert engine_info(base.spec.engine).bases_clones


@pytest.mark.parametrize(
    "info",
    [pytest.param(info, id=info.name, marks=engine_marks(info.name))
     for info in registered_engines()],
)
def test_an_engine_speaks_every_language_it_claims_at_its_sample_rate(synthesizer, info):
    for language, engine_voice in info.voices.items():
        voice = VoiceSpec(info.name, engine_voice, language)
        chunks = list(synthesizer.synthesize(preview_text(language), voice))
        pcm = np.concatenate([chunk.pcm for chunk in chunks]).astype(np.float32) / 32768
        assert {chunk.sample_rate for chunk in chunks} == {info.sample_rate}
        assert len(pcm) / info.sample_rate > 1.0
        assert speech_rms(pcm) > 0.05


@pytest.mark.parametrize(
    "info", [info for info in registered_engines() if info.warm_up_voice],
    ids=lambda info: info.name,
)
def test_a_warm_up_voice_is_one_of_its_engine_voices(info):
    assert info.warm_up_voice.engine == info.name
    assert info.voices[info.warm_up_voice.language] == info.warm_up_voice.engine_voice


def test_an_unknown_engine_is_a_value_error(synthesizer):
    with pytest.raises(ValueError, match="unknown speech engine 'nope'"):
        list(synthesizer.synthesize("Hello.", VoiceSpec("nope", "x", "en")))
    with pytest.raises(ValueError, match="unknown speech engine 'nope'"):
        engine_info("nope")
    with pytest.raises(ValueError, match="unknown speech engine 'nope'"):
        unregister("nope")


def test_a_second_engine_of_the_same_name_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        register(registered_engines()[0])


# A whole engine, as a new engine module would hold it: a tone at the voice's frequency
# ("a440" → 440 Hz), seeded hiss, one tone burst per character.
_SINE_RATE = 16000
_CHARACTER_SECONDS = 0.05


class SineEngine:
    """Speaks every character as a short tone at the voice's frequency."""

    sample_rate = _SINE_RATE

    def load(self) -> None:
        """Nothing to load."""

    def seeded_session(self) -> contextlib.nullcontext[SineEngine]:
        """Itself: its noise comes only from the seed."""
        return contextlib.nullcontext(self)

    def synthesize_clause(
        self, text: str, voice: VoiceSpec, settings: SynthesisSettings, seed: int
    ) -> ClauseAudio:
        """A tone as long as the text, faster with ``speed``; times spread evenly."""
        seconds = _CHARACTER_SECONDS * len(text) / settings.speed
        times = np.arange(int(seconds * _SINE_RATE)) / _SINE_RATE
        hiss = np.random.default_rng(seed).standard_normal(len(times)) * 0.01
        samples = (0.3 * np.sin(2 * np.pi * float(voice.engine_voice[1:]) * times) + hiss)
        starts = [index * seconds / len(text) for index in range(len(text))]
        ends = [*starts[1:], seconds]
        return ClauseAudio(samples.astype(np.float32), _SINE_RATE, starts, ends)


SINE = EngineInfo(
    name="sine",
    create=SineEngine,
    voices={"en": "a440"},
    sample_rate=_SINE_RATE,
    aligns_characters=False,
    repeats_seed=True,
    native_speed=True,
    bases_clones=False,
)


@pytest.fixture
def sine_engine() -> Iterator[EngineInfo]:
    """The sine engine, registered for one test."""
    register(SINE)
    try:
        yield SINE
    finally:
        unregister(SINE.name)


def _dominant_hz(pcm: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float32)))
    return float(np.fft.rfftfreq(len(pcm), 1 / rate)[np.argmax(spectrum)])


@pytest.mark.usefixtures("sine_engine")
def test_a_registered_engine_speaks_through_the_synthesizer_and_the_catalog():
    synthesizer = Synthesizer()
    text = "Hello there, this is a tone. It has two sentences!"
    voice = VoiceSpec("sine", "a880", "en")
    chunks = list(synthesizer.synthesize(text, voice, SynthesisSettings(seed=3)))
    assert "".join(chunk.text for chunk in chunks) == text
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.sample_rate == _SINE_RATE
        assert _dominant_hz(chunk.pcm, chunk.sample_rate) == pytest.approx(880, abs=5)
    again = list(synthesizer.synthesize(text, voice, SynthesisSettings(seed=3)))
    assert [c.pcm.tobytes() for c in again] == [c.pcm.tobytes() for c in chunks]
    fast = list(synthesizer.synthesize(text, voice, SynthesisSettings(seed=3, speed=1.2)))
    assert sum(c.duration for c in fast) < sum(c.duration for c in chunks)
    # An English-only model reads a French sine voice with the engine's English voice.
    french = VoiceSpec("sine", "a880", "fr")
    english = get_model("eleven_flash_v2").voice_spec_for(french)
    assert (english.engine_voice, english.language) == ("a440", "en")
    assert get_model("eleven_multilingual_v2").voice_spec_for(french) == french


def test_an_unregistered_engine_is_unknown_to_new_synthesizers():
    register(SINE)
    unregister(SINE.name)
    with pytest.raises(ValueError, match="unknown speech engine 'sine'"):
        Synthesizer().engine_for(VoiceSpec("sine", "a440", "en"))
