"""The small interface every speech engine implements, and the values that cross it."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import threading

    from ..audio import FloatAudio, Int16Audio


@dataclass(frozen=True)
class SynthesisSettings:
    """The API's ``voice_settings`` (plus the request ``seed``), validated and defaulted.

    Parameters
    ----------
    stability : float
        0–1; lower means more take-to-take and intonation variation.
    similarity_boost : float
        0–1; how strongly a cloned voice's measured pitch/rate profile is applied.
    style : float
        0–1; prosodic exaggeration where the engine has a knob for it.
    use_speaker_boost : bool
        Normalize loudness of every chunk to one target level.
    speed : float
        0.7–1.2; above 1 is faster speech.
    seed : int or None
        Same seed, same text, same settings → byte-identical audio.
    """

    stability: float = 0.5
    similarity_boost: float = 0.75
    style: float = 0.0
    use_speaker_boost: bool = True
    speed: float = 1.0
    seed: int | None = None


@dataclass(frozen=True)
class VoiceSpec:
    """How to speak as one voice.

    Parameters
    ----------
    engine : str
        The name of a registered engine (see ``registry``).
    engine_voice : str
        The engine's own name for the voice (a model key, a voice name).
    language : str
        ISO 639-1 code, e.g. ``"en"``.
    pitch_factor : float
        Cloned voices: target F0 divided by the engine voice's F0.
    rate_factor : float
        Cloned voices: target speaking rate divided by the engine voice's rate.
    variant : str or None
        A variant of the engine voice, for engines that have them (gender and timbre).
    """

    engine: str
    engine_voice: str
    language: str
    pitch_factor: float = 1.0
    rate_factor: float = 1.0
    variant: str | None = None


@dataclass
class AudioChunk:
    """One synthesized clause.

    Chunks of one take partition the request text: chunk ``i`` covers
    ``text[text_start : text_start + len(chunk.text)]`` and the next chunk starts where it
    ends, so concatenating ``chunk.text`` gives back the request text.

    Parameters
    ----------
    pcm : numpy.ndarray
        int16 mono samples.
    sample_rate : int
        Samples per second of ``pcm``.
    text_start : int
        Offset of this clause in the request text.
    text : str
        The clause exactly as it appears in the request text (whitespace included).
    char_starts, char_ends : list of float
        Seconds relative to the start of this chunk's audio, one per character of ``text``.
    """

    pcm: Int16Audio
    sample_rate: int
    text_start: int
    text: str
    char_starts: list[float] = field(default_factory=list)
    char_ends: list[float] = field(default_factory=list)

    @property
    def duration(self) -> float:
        """Length of the chunk's audio in seconds."""
        return len(self.pcm) / self.sample_rate


@dataclass
class ClauseAudio:
    """What an engine returns for one clause: float audio and per-character times."""

    samples: FloatAudio  # float32 mono in [-1, 1]
    sample_rate: int
    char_starts: list[float]
    char_ends: list[float]


class ClauseSpeaker(Protocol):
    """Anything that speaks one clause: an engine, or a session of one."""

    def synthesize_clause(
        self, text: str, voice: VoiceSpec, settings: SynthesisSettings, seed: int
    ) -> ClauseAudio:
        """Synthesize one clause.

        Each engine's own docstring says how it reads the voice, settings and seed.

        Parameters
        ----------
        text : str
            The clause, unspeakable characters already replaced by spaces.
        voice : VoiceSpec
            The engine voice to speak it with.
        settings : SynthesisSettings
            The take's voice settings.
        seed : int
            The clause's seed, drawn from the take's seed and the clause's index.

        Returns
        -------
        ClauseAudio
            Float audio and per-character times for ``text``.
        """


class Engine(ClauseSpeaker, Protocol):
    """One speech engine: turns one clause of speakable text into audio.

    Engines are declared to the server with their capabilities in ``registry``.
    """

    sample_rate: int

    def load(self) -> None:
        """Load models and libraries so the first clause pays no load time."""

    def seeded_session(self) -> AbstractContextManager[ClauseSpeaker]:
        """What speaks the clauses of one seeded take, for the length of the take.

        An engine whose output depends only on its inputs returns itself (in a
        ``contextlib.nullcontext``); one that carries state from call to call returns a
        session that starts from a fresh state, so the same seed repeats the take.
        """


@runtime_checkable
class BackgroundLoader(Protocol):
    """An engine whose ``load`` only checks its assets: its model loads on its first clause.

    ``preload`` starts that load in a background thread instead (for servers that will use
    the engine soon), returning the thread, or None when there is nothing to load.
    """

    def preload(self) -> threading.Thread | None:
        """Start loading the model in a daemon thread."""
