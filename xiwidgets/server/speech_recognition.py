"""What the offline Whisper model hears in a recording, word by word, with times (moved
onto the recording's pauses by :mod:`~xiwidgets.server.word_boundaries`).

The model (see :mod:`xiwidgets.whisper_model`) is loaded on the first request that needs it and
kept for the life of the server process; the first speech-to-text or forced-alignment request
pays the load (a second or two), later ones do not. Independent of HTTP: failures are
:mod:`~xiwidgets.server.domain_errors`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from xiwidgets.server.domain_errors import (
    NoLongerWantedError,
    SpeechModelUnavailableError,
    UnsupportedOptionError,
)
from xiwidgets.whisper_model import DECODING_LOCK, WHISPER_RATE, load_whisper

# ISO 639-3 names of the ISO 639-1 codes the API also accepts for English, the only language
# of the model this server ships (Whisper tiny.en); other languages are refused by name.
_ISO_639_3 = {"eng": "en"}


class RecognitionStoppedError(NoLongerWantedError):
    """A transcription stopped part way because its answer is no longer wanted."""


@dataclass(frozen=True)
class HeardWord:
    """One word as Whisper heard it: its text (punctuation attached), times and confidence."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Transcript:
    """A recording's words, its language and its length in seconds."""

    language: str
    language_probability: float
    words: list[HeardWord]
    duration: float

    @property
    def text(self) -> str:
        """The words joined by single spaces."""
        return " ".join(word.text for word in self.words)


class SpeechRecognizer:
    """The server's one recognizer: Whisper with word timestamps, one decoding at a time."""

    def _model(self) -> Any:
        try:
            return load_whisper()
        except ImportError as exc:
            raise SpeechModelUnavailableError(exc.name or "faster-whisper") from None

    def languages(self) -> list[str]:
        """ISO 639-1 codes of the languages the model knows (loads it)."""
        return list(self._model().supported_languages)

    def language_of(self, code: str | None) -> str | None:
        """The model's code for the request's ``language_code`` (``None``: let it decide).

        Raises
        ------
        UnsupportedOptionError
            A language the offline model does not know: it would transcribe it as gibberish.
        """
        if code is None or not code.strip():
            return None
        base = code.strip().lower().replace("_", "-").split("-")[0]
        base = _ISO_639_3.get(base, base)
        known = self.languages()
        if base not in known:
            raise UnsupportedOptionError(
                f"language_code {code!r} is not a language the offline speech model knows "
                f"(it knows {', '.join(known)}); use the hosted API for other languages."
            )
        return base

    def transcribe(
        self,
        samples: np.ndarray,
        language: str | None = None,
        temperature: float = 0.0,
        stop: threading.Event | None = None,
    ) -> Transcript:
        """Transcribe 16 kHz float32 mono ``samples`` with word timestamps.

        Parameters
        ----------
        samples : numpy.ndarray
            The recording (see :func:`xiwidgets.server.recordings.decode_recording`).
        language : str, optional
            A code from :meth:`language_of`; ``None`` lets a multilingual model detect it.
        temperature : float
            Sampling temperature; 0 decodes deterministically (beam search).
        stop : threading.Event, optional
            Set when the answer is no longer wanted (its client went away): decoding ends
            after the 30 s window it is in.

        Returns
        -------
        Transcript

        Raises
        ------
        RecognitionStoppedError
            ``stop`` was set before the recording was transcribed to its end.
        """
        model = self._model()
        with DECODING_LOCK:
            # One temperature and no conditioning on earlier text: no fallback re-decoding and
            # no repetition loops, so the time stays near the audio's length. A beam of 5 costs
            # little next to the encoder (CPU per audio second 0.108 → 0.114) and cuts the word
            # error rate on Joe takes from 0.052 to 0.036 (benchmarks/api.py).
            segments, info = model.transcribe(
                samples,
                language=language,
                beam_size=5,
                temperature=temperature,
                vad_filter=False,
                condition_on_previous_text=False,
                word_timestamps=True,
            )
            # Segments are decoded as they are read: stopping between them stops the work.
            words = []
            for segment in segments:
                if stop is not None and stop.is_set():
                    raise RecognitionStoppedError
                words += [
                    HeardWord(word.word.strip(), round(word.start, 3), round(word.end, 3),
                              float(word.probability))
                    for word in segment.words or ()
                    if word.word.strip()
                ]
        from xiwidgets.server.word_boundaries import snap_to_pauses

        return Transcript(
            language=info.language,
            language_probability=round(float(info.language_probability), 4),
            words=snap_to_pauses(words, samples, WHISPER_RATE),
            duration=len(samples) / WHISPER_RATE,
        )
