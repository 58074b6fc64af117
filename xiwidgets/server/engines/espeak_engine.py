"""espeak-ng voices in process through ctypes (library and data from ``espeakng-loader``).

espeak-ng keeps one global state (current voice, parameters, callback), so every call into
it runs under one process-wide lock. Synthesis is synchronous: ``espeak_Synth`` calls our
callback with audio buffers and events; word events carry the word's character position in
the text and its audio position, which gives the alignment.
"""

from __future__ import annotations

import ctypes
import threading
from typing import TYPE_CHECKING

import espeakng_loader
import numpy as np

from .alignment import CharTimes, times_for_words
from .base import ClauseAudio, SynthesisSettings, VoiceSpec
from .dsp import varispeed
from .espeak_fresh import FreshEspeakSession
from .registry import EngineInfo

if TYPE_CHECKING:
    from ..audio import FloatAudio, Int16Audio

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH, _PARAM_RANGE = 1, 2, 3, 4
_DEFAULT_RATE_WPM = 175
_MIN_RATE_WPM, _MAX_RATE_WPM = 80, 450


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)

# espeak-ng is a process-wide singleton: one library handle, one lock, for every engine object.
_LOCK = threading.Lock()
_library: ctypes.CDLL | None = None
_library_rate = 0


def _load_library() -> tuple[ctypes.CDLL, int]:
    global _library, _library_rate
    if _library is None:
        library = ctypes.CDLL(espeakng_loader.get_library_path())
        library.espeak_Initialize.restype = ctypes.c_int
        library.espeak_Initialize.argtypes = [
            ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int
        ]
        library.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        library.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        library.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        library.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        library.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
        ]
        data_path = espeakng_loader.get_data_path().encode()
        rate = library.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, _INITIALIZE_DONT_EXIT
        )
        if rate <= 0:
            raise RuntimeError(f"espeak-ng failed to initialize (code {rate})")
        _library, _library_rate = library, rate
    return _library, _library_rate


class EspeakEngine:
    """Synthesize clauses with espeak-ng voices."""

    def __init__(self) -> None:
        self.sample_rate = 22050
        # Kept on the instance so ctypes does not free the trampoline while espeak holds it.
        self._callback = _SYNTH_CALLBACK(self._on_audio)
        self._buffers: list[Int16Audio] = []
        self._words: list[tuple[int, int, float]] = []  # (char index, length, seconds)

    def load(self) -> None:
        """Initialize the espeak-ng library (once per process)."""
        with _LOCK:
            self.sample_rate = _load_library()[1]

    def seeded_session(self) -> FreshEspeakSession:
        """A freshly loaded espeak-ng in a child process, for one seeded take.

        espeak-ng carries state from call to call, so only a fresh one repeats a seeded take
        byte for byte (see ``espeak_fresh``); unseeded takes stay in process, where it is
        fastest.
        """
        return FreshEspeakSession()

    def synthesize_clause(
        self, text: str, voice: VoiceSpec, settings: SynthesisSettings, seed: int
    ) -> ClauseAudio:
        """Synthesize one clause (see ``ClauseSpeaker.synthesize_clause``).

        ``voice.engine_voice`` and ``voice.variant`` select the espeak voice; ``pitch_factor``
        is applied by varispeed and ``rate_factor`` through the rate. ``settings.speed`` sets
        the rate (words per minute) and ``settings.stability`` the pitch range. ``seed`` seeds
        espeak-ng's noise generator (aspiration and fricative noise).
        """
        name = voice.engine_voice + (f"+{voice.variant}" if voice.variant else "")
        rate = _DEFAULT_RATE_WPM * settings.speed * voice.rate_factor / voice.pitch_factor
        pitch_range = round(10 + 80 * (1.0 - settings.stability))
        encoded = text.encode("utf-8") + b"\0"
        with _LOCK:
            library, sample_rate = _load_library()
            self.sample_rate = sample_rate
            if library.espeak_SetVoiceByName(name.encode()) != 0:
                raise ValueError(f"espeak-ng has no voice named {name!r}")
            library.espeak_SetParameter(
                _PARAM_RATE, int(np.clip(round(rate), _MIN_RATE_WPM, _MAX_RATE_WPM)), 0
            )
            library.espeak_SetParameter(_PARAM_RANGE, pitch_range, 0)
            library.espeak_SetParameter(_PARAM_VOLUME, 100, 0)
            library.espeak_SetSynthCallback(self._callback)
            # Breath and Klatt noise come from espeak-ng's own generator: seed it per clause.
            library.espeak_ng_SetRandSeed(seed)
            self._buffers, self._words = [], []
            library.espeak_Synth(
                encoded, len(encoded), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
            )
            buffers, words = self._buffers, self._words
            self._buffers, self._words = [], []
        samples = (
            np.concatenate(buffers).astype(np.float32) / 32768.0
            if buffers
            else np.zeros(0, dtype=np.float32)
        )
        times = self._char_times(text, words, samples)
        if voice.pitch_factor != 1.0:
            samples = varispeed(samples, self.sample_rate, voice.pitch_factor)
            times = times.scaled(1.0 / voice.pitch_factor)
        return ClauseAudio(samples, self.sample_rate, times.starts, times.ends)

    def _on_audio(
        self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]
    ) -> int:
        if count > 0:
            self._buffers.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_WORD:
                # text_position counts characters from 1.
                self._words.append(
                    (event.text_position - 1, event.length, event.audio_position / 1000.0)
                )
            index += 1
        return 0

    def _char_times(
        self, text: str, words: list[tuple[int, int, float]], samples: FloatAudio
    ) -> CharTimes:
        duration = len(samples) / self.sample_rate
        spans: list[tuple[int, int]] = []
        starts: list[float] = []
        for position, length, start in sorted(words):
            first = min(max(position, spans[-1][1] if spans else 0), len(text))
            spans.append((first, min(max(position + length, first), len(text))))
            starts.append(start)
        speech_end = _last_sound_second(samples, self.sample_rate)
        word_times = []
        for index, start in enumerate(starts):
            end = starts[index + 1] if index + 1 < len(starts) else max(speech_end, start)
            word_times.append((start, end))
        return times_for_words(len(text), spans, word_times, duration)


def _last_sound_second(samples: FloatAudio, sample_rate: int) -> float:
    """Second at which the audio last rises above -40 dBFS (where the speech ends)."""
    loud = np.flatnonzero(np.abs(samples) > 0.01)
    return (loud[-1] + 1) / sample_rate if len(loud) else 0.0


ENGINE = EngineInfo(
    name="espeak",
    create=EspeakEngine,
    # espeak-ng speaks about a hundred languages; these are the ones the catalog offers.
    voices={
        "en": "en-us", "fr": "fr", "de": "de", "es": "es", "it": "it", "pt": "pt",
        "nl": "nl", "pl": "pl", "hi": "hi", "sv": "sv",
    },
    sample_rate=22050,
    aligns_characters=True,
    repeats_seed=True,
    native_speed=True,
    bases_clones=True,
)
