"""The one entry point the server uses: text + voice + settings → audio chunks per clause."""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from ..audio import float_to_int16, normalize_loudness
from ..text import Clause, split_clauses
from . import registry
from .base import (
    AudioChunk,
    BackgroundLoader,
    ClauseAudio,
    ClauseSpeaker,
    Engine,
    SynthesisSettings,
    VoiceSpec,
)

if TYPE_CHECKING:
    from ..lexicon import Lexicon

# Text with nothing speakable (only emoji, say) still gets a valid, short, silent take.
_SILENCE_SECONDS = 0.25
# similarity_boost at or above this applies a cloned voice's profile in full (0.75 is the
# API's default, so a clone sounds like its samples out of the box).
_FULL_SIMILARITY = 0.75


class Synthesizer:
    """Synthesize text with any voice of the registered engines, one chunk per clause.

    One instance is meant to live for the whole server: it builds one of each engine
    registered when it is created (see ``registry``), loads them once and reuses them; calls
    from several threads are safe (each engine serializes what it must).
    """

    def __init__(self) -> None:
        engines = registry.registered_engines()
        self._engines: dict[str, Engine] = {info.name: info.create() for info in engines}
        self._first_chunk_words = {info.name: info.first_chunk_words for info in engines}
        self._warm_up_voices = [info.warm_up_voice for info in engines if info.warm_up_voice]

    def warm_up(self) -> None:
        """Load every engine and speak once with the engines that ask for it (see registry).

        Engines that load on first use (``base.BackgroundLoader``: Kokoro) only check their
        assets here; :meth:`preload` loads them in the background.
        """
        for engine in self._engines.values():
            engine.load()
        for voice in self._warm_up_voices:
            for _ in self.synthesize("Ready.", voice, SynthesisSettings(seed=0)):
                pass

    def preload(self) -> list[threading.Thread]:
        """Start loading, in the background, the engines that otherwise load on first use.

        Returns
        -------
        list of threading.Thread
            The loading threads (none when no such engine has its assets).
        """
        threads = []
        for engine in self._engines.values():
            if isinstance(engine, BackgroundLoader):
                thread = engine.preload()
                if thread is not None:
                    threads.append(thread)
        return threads

    def engine_for(self, voice: VoiceSpec) -> Engine:
        """Return the engine that speaks ``voice``.

        Raises ``registry.UnknownEngineError`` (a ValueError) for an engine that was not
        registered when this synthesizer was made.
        """
        try:
            return self._engines[voice.engine]
        except KeyError:
            raise registry.UnknownEngineError(voice.engine) from None

    def synthesize(
        self,
        text: str,
        voice: VoiceSpec,
        settings: SynthesisSettings | None = None,
        lexicon: Lexicon | None = None,
    ) -> Iterator[AudioChunk]:
        """Yield one ``AudioChunk`` per clause of ``text``, each as soon as it is ready.

        Parameters
        ----------
        text : str
            The request text (any Unicode; unspeakable characters are silent).
        voice : VoiceSpec
            Which engine voice speaks, with its pitch and rate factors.
        settings : SynthesisSettings, optional
            Defaults to ``SynthesisSettings()``. With a ``seed`` the take is byte-for-byte
            repeatable (it is spoken by the engine's ``seeded_session``); without one every
            take draws a fresh seed.
        lexicon : Lexicon, optional
            Pronunciation rules: aliases are said instead of their words, phoneme rules'
            words with their phonemes. The chunks' text and times stay those of ``text``.

        Yields
        ------
        AudioChunk
            Chunks that partition ``text`` in order (see ``AudioChunk``).
        """
        settings = settings or SynthesisSettings()
        voice = apply_similarity(voice, settings.similarity_boost)
        engine = self.engine_for(voice)
        base_seed = settings.seed if settings.seed is not None else secrets.randbits(32)
        clauses = split_clauses(text, first_max_words=self._first_chunk_words[voice.engine])
        if not clauses:
            yield _silent_chunk(text, engine.sample_rate)
            return
        # An engine that carries state between calls repeats a seeded take only from a fresh
        # state; unseeded takes skip that cost.
        with contextlib.ExitStack() as stack:
            speaker: ClauseSpeaker = engine
            if settings.seed is not None:
                speaker = stack.enter_context(engine.seeded_session())
            for index, clause in enumerate(clauses):
                seed = int(np.random.SeedSequence([base_seed, index]).generate_state(1)[0])
                if lexicon:
                    audio = _say_with_rules(
                        speaker, lexicon, clause.speakable, voice, settings, seed
                    )
                else:
                    audio = speaker.synthesize_clause(
                        _engine_text(clause.speakable), voice, settings, seed
                    )
                chunk = _to_chunk(audio, clause.start, clause.text, settings.use_speaker_boost)
                yield _with_pauses(chunk, clause) if clause.pause_before or clause.pause_after \
                    else chunk


def _say_with_rules(
    speaker: ClauseSpeaker,
    lexicon: Lexicon,
    speakable: str,
    voice: VoiceSpec,
    settings: SynthesisSettings,
    seed: int,
) -> ClauseAudio:
    """One clause said with the lexicon's rules, its times brought back to the text as sent."""
    rendering = lexicon.render(speakable)
    if rendering.phonemes:
        audio = speaker.synthesize_clause(
            _engine_text(rendering.text), voice, settings, seed, rendering.phonemes
        )
    else:
        audio = speaker.synthesize_clause(_engine_text(rendering.text), voice, settings, seed)
    count = len(rendering.text)
    starts, ends = rendering.times_as_sent(audio.char_starts[:count], audio.char_ends[:count])
    return replace(audio, char_starts=starts, char_ends=ends)


def _engine_text(speakable: str) -> str:
    """The clause as the engine should read it.

    A clause cut inside a sentence (the short first chunk, or a long sentence broken at a
    word) would be read with a final, falling intonation; a trailing comma makes the engine
    use its continuation intonation instead. The comma is placed after the clause's trailing
    spaces, so character offsets are unchanged and its time is simply dropped.
    """
    stripped = speakable.rstrip()
    if stripped and stripped[-1].isalnum():
        return speakable + ","
    return speakable


def apply_similarity(voice: VoiceSpec, similarity_boost: float) -> VoiceSpec:
    """Scale a cloned voice's pitch and rate factors by ``similarity_boost``.

    From 0.75 up the measured profile applies in full; below, the factors move
    geometrically toward 1 (the engine voice's own pitch and rate), reaching it at 0.

    Parameters
    ----------
    voice : VoiceSpec
        A voice, possibly with ``pitch_factor`` / ``rate_factor`` from a clone.
    similarity_boost : float
        0–1.

    Returns
    -------
    VoiceSpec
    """
    strength = min(1.0, max(0.0, similarity_boost) / _FULL_SIMILARITY)
    if strength == 1.0 or (voice.pitch_factor == 1.0 and voice.rate_factor == 1.0):
        return voice
    return replace(
        voice,
        pitch_factor=voice.pitch_factor**strength,
        rate_factor=voice.rate_factor**strength,
    )


def _to_chunk(audio: ClauseAudio, start: int, text: str, speaker_boost: bool) -> AudioChunk:
    if len(audio.samples) == 0:  # only punctuation ("...", "?!"): nothing to pronounce
        return _silent_chunk(text, audio.sample_rate, start)
    samples = normalize_loudness(audio.samples) if speaker_boost else audio.samples
    count = len(text)
    return AudioChunk(
        pcm=float_to_int16(samples),
        sample_rate=audio.sample_rate,
        text_start=start,
        text=text,
        char_starts=[float(t) for t in audio.char_starts[:count]],
        char_ends=[float(t) for t in audio.char_ends[:count]],
    )


def _with_pauses(chunk: AudioChunk, clause: Clause) -> AudioChunk:
    """``chunk`` with the silence its clause's break tags ask for, before and after its speech.

    The speech's character times move by the pause before it; the characters before the
    clause's first word and after its last (its tags, blank in ``clause.speakable``, and the
    spaces around them) are timed over the pause they are in.
    """
    rate = chunk.sample_rate
    before = np.zeros(round(clause.pause_before * rate), dtype=np.int16)
    after = np.zeros(round(clause.pause_after * rate), dtype=np.int16)
    lead = len(before) / rate
    speech_end = lead + chunk.duration
    first_word = len(clause.speakable) - len(clause.speakable.lstrip())
    last_word_end = len(clause.speakable.rstrip())
    starts = [lead + t for t in chunk.char_starts]
    ends = [lead + t for t in chunk.char_ends]
    for index in range(min(first_word, len(starts))):
        starts[index], ends[index] = 0.0, lead
    for index in range(last_word_end, len(starts)):
        starts[index], ends[index] = speech_end, speech_end + len(after) / rate
    return replace(chunk, pcm=np.concatenate([before, chunk.pcm, after]), char_starts=starts,
                   char_ends=ends)


def _silent_chunk(text: str, sample_rate: int, start: int = 0) -> AudioChunk:
    length = int(_SILENCE_SECONDS * sample_rate)
    return AudioChunk(
        pcm=np.zeros(length, dtype=np.int16),
        sample_rate=sample_rate,
        text_start=start,
        text=text,
        char_starts=[0.0] * len(text),
        char_ends=[_SILENCE_SECONDS] * len(text),
    )


@dataclass(frozen=True)
class SynthesisTiming:
    """Raw engine timings of one take (for ``benchmarks/``)."""

    first_chunk_seconds: float
    total_seconds: float
    audio_seconds: float
    chunks: int

    @property
    def real_time_factor(self) -> float:
        """Seconds of audio produced per second of compute."""
        return self.audio_seconds / self.total_seconds if self.total_seconds else 0.0


def measure_synthesis(
    synthesizer: Synthesizer,
    text: str,
    voice: VoiceSpec,
    settings: SynthesisSettings | None = None,
) -> SynthesisTiming:
    """Time one take: seconds to the first chunk, to the last, and the audio length.

    Parameters
    ----------
    synthesizer : Synthesizer
        A warmed-up synthesizer (call ``warm_up`` first to leave load time out).
    text : str
        Text to speak.
    voice : VoiceSpec
        Voice to speak it with.
    settings : SynthesisSettings, optional
        Settings of the take.

    Returns
    -------
    SynthesisTiming
    """
    started = time.perf_counter()
    first = None
    audio_seconds = 0.0
    chunks = 0
    for chunk in synthesizer.synthesize(text, voice, settings):
        if first is None:
            first = time.perf_counter() - started
        audio_seconds += chunk.duration
        chunks += 1
    total = time.perf_counter() - started
    return SynthesisTiming(first or total, total, audio_seconds, chunks)
