"""Speech in, text out: ``client.forced_alignment`` and ``client.speech_to_text``.

The official SDK's names and keywords: ``forced_alignment.create(file=, text=)`` and
``speech_to_text.convert(file=, model_id=, ...)``. A recording is a path, bytes, a
``(filename, bytes)`` pair or a :class:`~xiwidgets.client.types.Take`. The hosted API bills both
by audio duration, so neither is resent after the server may have started on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xiwidgets.client import endpoints
from xiwidgets.client.transport import Transport
from xiwidgets.client.types import ForcedAlignment, Take, Transcription
from xiwidgets.client.voices import SampleFile, _sample_part

Recording = SampleFile | Take

DEFAULT_SPEECH_TO_TEXT_MODEL = "scribe_v1"


def _in_doubt(_info: Any) -> str:
    return ("The recording may have been processed (the hosted API bills it by duration); "
            "send it again only if a second charge is acceptable.")


def _file_part(recording: Recording) -> dict[str, tuple[str, bytes, str]]:
    if isinstance(recording, Take):
        recording = recording._upload()
    return {"file": _sample_part(0, recording)[1]}


def _form_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class ForcedAlignmentAPI:
    """``client.forced_alignment``: time a known text in any recording."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def create(self, file: Recording, text: str) -> ForcedAlignment:
        """Align ``text`` to the recording ``file`` (``POST /v1/forced-alignment``).

        Parameters
        ----------
        file : path, bytes, (filename, bytes) or Take
            The recording, in any common format.
        text : str
            What is said in it.

        Returns
        -------
        ForcedAlignment
            ``words`` (the :class:`~xiwidgets.client.captions.Word` takes use), the characters
            as an ``alignment`` and the losses.
        """
        return ForcedAlignment.from_dict(self._transport.json(
            "POST", endpoints.FORCED_ALIGNMENT, data={"text": text}, files=_file_part(file),
            in_doubt=_in_doubt))


class SpeechToText:
    """``client.speech_to_text``: transcribe a recording."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def convert(self, file: Recording | None = None, model_id: str = DEFAULT_SPEECH_TO_TEXT_MODEL,
                *, language_code: str | None = None, timestamps_granularity: str = "word",
                diarize: bool = False, tag_audio_events: bool = True,
                cloud_storage_url: str | None = None,
                **fields: Any) -> Transcription:
        """Transcribe ``file`` (``POST /v1/speech-to-text``).

        Parameters
        ----------
        file : path, bytes, (filename, bytes) or Take, optional
            The recording (or give ``cloud_storage_url`` to the hosted API).
        model_id : str
            ``scribe_v1`` by default.
        language_code : str, optional
            ISO 639-1 or 639-3; detected when ``None``. The local server knows English only
            and refuses other languages.
        timestamps_granularity : {"word", "character", "none"}
            Times per word, per character too, or none.
        diarize : bool
            Tell speakers apart (hosted only; the local server refuses it).
        tag_audio_events : bool
            Mark laughter and the like (hosted only; the local server tags none).
        cloud_storage_url : str, optional
            A URL the hosted API fetches instead of an upload.
        **fields
            Further form fields of the API (``num_speakers``, ``temperature``, ...).

        Returns
        -------
        Transcription
        """
        form: Mapping[str, Any] = {
            "model_id": model_id, "language_code": language_code,
            "timestamps_granularity": timestamps_granularity, "diarize": diarize,
            "tag_audio_events": tag_audio_events, "cloud_storage_url": cloud_storage_url,
            **fields}
        data = {key: _form_value(value) for key, value in form.items() if value is not None}
        return Transcription.from_dict(self._transport.json(
            "POST", endpoints.SPEECH_TO_TEXT, data=data,
            files=_file_part(file) if file is not None else None, in_doubt=_in_doubt))
