"""Speech to text and forced alignment of uploaded recordings, with the offline Whisper model.

Neither is billed against the character quota nor kept in the history: the hosted API bills
both by audio duration, in a unit the local server does not keep, and its history lists speech
it generated, not transcripts. What the offline model cannot do (other languages than its own,
telling speakers apart, fetching a URL, calling a webhook, separate channels, extra transcript
formats) is refused with :class:`~xiwidgets.server.domain_errors.UnsupportedOptionError` rather
than answered with a guess.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from xiwidgets.server.config import ServerConfig
from xiwidgets.server.domain_errors import (
    InvalidAudioError,
    SpeechBusyError,
    SpeechToTextModelNotFoundError,
    UnsupportedOptionError,
)
from xiwidgets.server.forced_alignment import ForcedAlignment, align_text, check_alignment_text
from xiwidgets.server.recordings import decode_recording
from xiwidgets.server.speech_recognition import SpeechRecognizer, Transcript

# The hosted Scribe models' ids; every one is served by the offline Whisper model.
SPEECH_TO_TEXT_MODELS = ("scribe_v1", "scribe_v1_experimental", "scribe_v2")


@dataclass(frozen=True)
class TranscriptionOptions:
    """The speech-to-text request's fields that change what is done (see the API reference)."""

    model_id: str
    language_code: str | None = None
    diarize: bool = False
    num_speakers: int | None = None
    cloud_storage_url: str | None = None
    webhook: bool = False
    use_multi_channel: bool = False
    additional_formats: bool = False
    raw_pcm: bool = False
    temperature: float | None = None


class SpeechService:
    """Transcribes and aligns uploads within the server's limits.

    Parameters
    ----------
    config : ServerConfig
        ``max_recording_seconds``, ``max_alignment_text_characters``.
    recognizer : SpeechRecognizer
        The one Whisper model of the server.
    """

    def __init__(self, config: ServerConfig, recognizer: SpeechRecognizer) -> None:
        self._config = config
        self._recognizer = recognizer
        self._admitted = threading.BoundedSemaphore(config.max_speech_requests)

    @contextlib.contextmanager
    def _admission(self) -> Iterator[None]:
        """Hold one of the ``max_speech_requests`` places, or refuse at once."""
        if not self._admitted.acquire(blocking=False):
            raise SpeechBusyError(self._config.max_speech_requests)
        try:
            yield
        finally:
            self._admitted.release()

    def align(
        self, file: IO[bytes] | None, text: str | None, stop: threading.Event | None = None
    ) -> ForcedAlignment:
        """Time every word and character of ``text`` in the recording ``file`` (blocking;
        ``stop`` ends it early, see :meth:`SpeechRecognizer.transcribe`).

        Raises
        ------
        InvalidAudioError, AudioTooLongError, InvalidAlignmentTextError
            No file, undecodable or empty audio, too long a recording; no text or too long.
        SpeechBusyError
            ``max_speech_requests`` are already running or waiting.
        SpeechModelUnavailableError
            Whisper is not installed.
        """
        check_alignment_text(text or "", self._config.max_alignment_text_characters)
        with self._admission():
            samples = decode_recording(_required(file), self._config.max_recording_seconds)
            heard = self._recognizer.transcribe(samples, stop=stop)
            return align_text(text or "", heard.words, heard.duration)

    def transcribe(
        self,
        file: IO[bytes] | None,
        options: TranscriptionOptions,
        stop: threading.Event | None = None,
    ) -> Transcript:
        """What is said in ``file``, word by word (blocking; ``stop`` ends it early, see
        :meth:`SpeechRecognizer.transcribe`).

        Raises
        ------
        SpeechToTextModelNotFoundError
            An unknown ``model_id``.
        UnsupportedOptionError
            An option only the hosted API can honour, or a language the model does not know.
        InvalidAudioError, AudioTooLongError
            No file, undecodable or empty audio, too long a recording.
        SpeechBusyError
            ``max_speech_requests`` are already running or waiting.
        SpeechModelUnavailableError
            Whisper is not installed.
        """
        if options.model_id not in SPEECH_TO_TEXT_MODELS:
            raise SpeechToTextModelNotFoundError(options.model_id, SPEECH_TO_TEXT_MODELS)
        _refuse_hosted_only(options, file is not None)
        with self._admission():
            samples = decode_recording(
                _required(file), self._config.max_recording_seconds, raw_pcm=options.raw_pcm
            )
            language = self._recognizer.language_of(options.language_code)
            return self._recognizer.transcribe(
                samples, language, options.temperature or 0.0, stop
            )


def _required(file: IO[bytes] | None) -> IO[bytes]:
    if file is None:
        raise InvalidAudioError("Upload the recording as the multipart field 'file'.")
    return file


def _refuse_hosted_only(options: TranscriptionOptions, has_file: bool) -> None:
    if options.cloud_storage_url:
        raise UnsupportedOptionError(
            "The local server works offline and does not fetch cloud_storage_url; download "
            "the recording and upload it as 'file'."
        )
    if not has_file:
        raise InvalidAudioError("Upload the recording as the multipart field 'file'.")
    if options.diarize or (options.num_speakers or 1) > 1:
        raise UnsupportedOptionError(
            "The offline speech model cannot tell speakers apart (diarize, num_speakers); "
            "use the hosted API for diarization."
        )
    if options.webhook:
        raise UnsupportedOptionError(
            "The local server answers speech to text synchronously and calls no webhook; "
            "send the request without webhook=true."
        )
    if options.use_multi_channel:
        raise UnsupportedOptionError(
            "The offline speech model transcribes one mixed-down channel; use the hosted API "
            "for use_multi_channel."
        )
    if options.additional_formats:
        raise UnsupportedOptionError(
            "The local server returns the JSON transcript only; write SRT or text from its "
            "words (xiwidgets.client.captions) instead of additional_formats."
        )
