"""Speech to text: ``POST /v1/speech-to-text`` with the offline Whisper model."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile

from xiwidgets.server.auth import API_KEY_REQUIRED
from xiwidgets.server.dependencies import ConfigDep, SpeechDep
from xiwidgets.server.routes._uploads import recording_file
from xiwidgets.server.routes._while_connected import while_connected
from xiwidgets.server.speech_recognition import HeardWord, Transcript
from xiwidgets.server.speech_service import TranscriptionOptions

router = APIRouter(tags=["speech-to-text"])

Granularity = Literal["none", "word", "character"]


def _timed(entry: dict[str, Any], start: float, end: float, granularity: Granularity) -> None:
    if granularity != "none":
        entry["start"], entry["end"] = start, end


def _characters(word: HeardWord) -> list[dict[str, Any]]:
    step = (word.end - word.start) / len(word.text)
    return [
        {"text": c, "start": round(word.start + k * step, 3),
         "end": round(word.start + (k + 1) * step, 3)}
        for k, c in enumerate(word.text)
    ]


def transcript_response(transcript: Transcript, granularity: Granularity) -> dict[str, Any]:
    """The API's ``SpeechToTextChunkResponseModel``: words with the spacing between them."""
    words: list[dict[str, Any]] = []
    for index, word in enumerate(transcript.words):
        if index:
            previous = transcript.words[index - 1]
            spacing: dict[str, Any] = {"text": " ", "type": "spacing", "logprob": 0.0}
            _timed(spacing, previous.end, max(previous.end, word.start), granularity)
            words.append(spacing)
        entry: dict[str, Any] = {
            "text": word.text,
            "type": "word",
            "logprob": round(math.log(max(word.probability, 1e-12)), 4),
        }
        _timed(entry, word.start, word.end, granularity)
        if granularity == "character":
            entry["characters"] = _characters(word)
        words.append(entry)
    return {
        "language_code": transcript.language,
        "language_probability": transcript.language_probability,
        "text": transcript.text,
        "words": words,
    }


def _has_formats(additional_formats: str | None) -> bool:
    if additional_formats is None or not additional_formats.strip():
        return False
    try:
        return bool(json.loads(additional_formats))
    except (json.JSONDecodeError, RecursionError):  # the latter: nested too deep
        return True  # something was asked for; refused by name rather than ignored


@router.post("/v1/speech-to-text", dependencies=API_KEY_REQUIRED)
async def speech_to_text(
    request: Request,
    speech: SpeechDep,
    config: ConfigDep,
    model_id: Annotated[str, Form()],
    file: Annotated[UploadFile | None, File()] = None,
    language_code: Annotated[str | None, Form()] = None,
    tag_audio_events: Annotated[bool, Form()] = True,  # Whisper tags no events: none appear
    num_speakers: Annotated[int | None, Form(ge=1, le=32)] = None,
    timestamps_granularity: Annotated[Granularity, Form()] = "word",
    diarize: Annotated[bool, Form()] = False,
    diarization_threshold: Annotated[float | None, Form(ge=0.1, le=0.4)] = None,
    additional_formats: Annotated[str | None, Form()] = None,
    file_format: Annotated[Literal["pcm_s16le_16", "other"], Form()] = "other",
    cloud_storage_url: Annotated[str | None, Form()] = None,
    webhook: Annotated[bool, Form()] = False,
    temperature: Annotated[float | None, Form(ge=0, le=2)] = None,
    seed: Annotated[int | None, Form(ge=0, le=2147483647)] = None,  # greedy decoding repeats
    use_multi_channel: Annotated[bool, Form()] = False,
    enable_logging: bool = True,  # nothing is logged locally (see speech_service)
) -> dict[str, Any]:
    """Transcribe the uploaded recording (any format) into text and timed words."""
    options = TranscriptionOptions(
        model_id=model_id,
        language_code=language_code,
        diarize=diarize,
        num_speakers=num_speakers,
        cloud_storage_url=cloud_storage_url,
        webhook=webhook,
        use_multi_channel=use_multi_channel,
        additional_formats=_has_formats(additional_formats),
        raw_pcm=file_format == "pcm_s16le_16",
        temperature=temperature,
    )
    recording = recording_file(config, file)
    transcript = await while_connected(
        request, lambda stop: speech.transcribe(recording, options, stop)
    )
    return transcript_response(transcript, timestamps_granularity)
