"""Text to dialogue: several lines, each in its own voice, as one take.

``client.dialogue`` has the official SDK's ``text_to_dialogue`` methods and argument names
(``inputs``, ``output_format``, ``model_id``, ``settings``, ``seed``…). A line is a mapping
``{"text", "voice_id"}`` (the SDK's ``DialogueInput``; any object with ``text`` and
``voice_id`` attributes too) or a ``(text, voice)`` pair, where the voice may be a
:class:`Voice`, a voice_id or a voice name.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from xiwidgets.client import endpoints
from xiwidgets.client.errors import take_in_doubt
from xiwidgets.client.streaming import DEFAULT_CHUNK_SIZE, AudioStream, TimedAudioStream
from xiwidgets.client.types import Alignment, ResponseInfo, Take, TimedChunk, TimedTake, _parse
from xiwidgets.client.voices import VoiceRef
from xiwidgets.formats import DEFAULT_OUTPUT_FORMAT

if TYPE_CHECKING:
    from xiwidgets.client.transport import Transport
    from xiwidgets.client.voices import Voices

DialogueLine = Mapping[str, Any] | tuple[str, VoiceRef] | Any
# What the dialogue's lines are joined with in the take's text (the server's rule).
LINE_SEPARATOR = " "


@dataclass(frozen=True)
class VoiceSegment:
    """Which voice speaks a stretch of a dialogue take (``VoiceSegment`` of the API).

    ``character_start_index``/``character_end_index`` (exclusive) index the characters of the
    alignment the segment came with; ``dialogue_input_index`` is the line of ``inputs``.
    """

    voice_id: str | None = None
    start_time_seconds: float | None = None
    end_time_seconds: float | None = None
    character_start_index: int | None = None
    character_end_index: int | None = None
    dialogue_input_index: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VoiceSegment:
        """Parse an API voice segment."""
        return _parse(cls, data)


def _segments(data: Mapping[str, Any]) -> tuple[VoiceSegment, ...]:
    return tuple(VoiceSegment.from_dict(s) for s in data.get("voice_segments") or ())


@dataclass(frozen=True)
class DialogueTake(TimedTake):
    """A whole dialogue take with its character alignment and its voice segments."""

    voice_segments: tuple[VoiceSegment, ...] = ()


@dataclass(frozen=True)
class DialogueChunk(TimedChunk):
    """One piece of a streamed dialogue: audio, the characters it covers and who speaks."""

    voice_segments: tuple[VoiceSegment, ...] = ()


class DialogueAudioStream(TimedAudioStream):
    """``/stream/with-timestamps`` of a dialogue: yields :class:`DialogueChunk` objects."""

    def _parse_lines(self, lines: list[bytes]) -> Iterator[DialogueChunk]:
        import json

        for line in lines:
            line = line.strip()
            if not line:
                continue
            try:
                data: Any = json.loads(line)
            except ValueError:
                continue  # not a JSON line (a keep-alive): nothing to yield
            chunk = DialogueChunk(
                audio=base64.b64decode(data.get("audio_base64") or ""),
                alignment=Alignment.from_dict(data.get("alignment")),
                normalized_alignment=Alignment.from_dict(data.get("normalized_alignment")),
                voice_segments=_segments(data),
            )
            self._audio += chunk.audio
            yield chunk


class TextToDialogue:
    """``client.dialogue``: several voices in one take (``/v1/text-to-dialogue``).

    Each method takes ``inputs`` (the lines; see the module) and the API's fields:
    ``output_format``, ``model_id`` (the server's default when ``None``), ``settings`` (a
    mapping such as ``{"stability": 0.5}``), ``seed``, ``enable_logging``, and any further body
    field as a keyword. A dialogue is billed like a take (its lines' characters) and is one
    history item; as with ``client.tts``, a request that may have been billed is not resent.
    """

    def __init__(self, transport: Transport, voices: Voices) -> None:
        self._transport = transport
        self._voices = voices

    def _line(self, line: DialogueLine) -> dict[str, str]:
        if isinstance(line, Mapping):
            text, voice = line.get("text"), line.get("voice_id")
        elif isinstance(line, tuple) and len(line) == 2:
            text, voice = line
        else:
            text, voice = getattr(line, "text", None), getattr(line, "voice_id", None)
        if not isinstance(text, str) or voice is None:
            raise TypeError(f"each dialogue line needs a text and a voice, not {line!r}")
        return {"text": text, "voice_id": self._voices.resolve_id(voice)}

    def _request_parts(self, inputs: Sequence[DialogueLine], output_format: str,
                       model_id: str | None, settings: Mapping[str, Any] | None,
                       seed: int | None, enable_logging: bool | None, extra: dict[str, Any]
                       ) -> tuple[dict[str, Any], dict[str, Any]]:
        if isinstance(inputs, str | bytes) or not isinstance(inputs, Sequence):
            raise TypeError("inputs must be a sequence of lines ({'text', 'voice_id'})")
        body = {"inputs": [self._line(line) for line in inputs], "model_id": model_id,
                "settings": dict(settings) if settings is not None else None, "seed": seed,
                **extra}
        params: dict[str, Any] = {"output_format": output_format}
        if enable_logging is not None:
            params["enable_logging"] = str(enable_logging).lower()
        return {k: v for k, v in body.items() if v is not None}, params

    @staticmethod
    def _made_by(body: dict[str, Any], params: dict[str, Any], response: Any,
                 started: float) -> dict[str, Any]:
        """What made a dialogue take, kept on it like a text-to-speech take's request."""
        return {
            "text": LINE_SEPARATOR.join(line["text"] for line in body["inputs"]),
            "model_id": body.get("model_id"), "seed": body.get("seed"),
            "output_format": params["output_format"],
            "options": {k: v for k, v in body.items() if k not in ("model_id", "seed")},
            "time_to_first_byte": response.elapsed.total_seconds(),
            "total_time": time.perf_counter() - started,
        }

    def convert(self, inputs: Sequence[DialogueLine], output_format: str = DEFAULT_OUTPUT_FORMAT,
                enable_logging: bool | None = None, model_id: str | None = None,
                settings: Mapping[str, Any] | None = None, seed: int | None = None,
                **extra: Any) -> Take:
        """The whole dialogue as one audio file (``POST /v1/text-to-dialogue``).

        Returns
        -------
        Take
            ``.audio`` plus ``request_id``, ``history_item_id``, ``character_cost``; its
            ``text`` is the lines joined by a space and ``options["inputs"]`` the lines.
        """
        body, params = self._request_parts(inputs, output_format, model_id, settings, seed,
                                           enable_logging, extra)
        started = time.perf_counter()
        response = self._transport.request("POST", endpoints.DIALOGUE, json=body, params=params,
                                           in_doubt=take_in_doubt)
        return Take(response.content, ResponseInfo.from_headers(response.headers),
                    **self._made_by(body, params, response, started))

    def stream(self, inputs: Sequence[DialogueLine], output_format: str = DEFAULT_OUTPUT_FORMAT,
               enable_logging: bool | None = None, model_id: str | None = None,
               settings: Mapping[str, Any] | None = None, seed: int | None = None,
               chunk_size: int = DEFAULT_CHUNK_SIZE, **extra: Any) -> AudioStream:
        """Stream the dialogue's audio as it is made (``POST /v1/text-to-dialogue/stream``).

        Returns
        -------
        AudioStream
            Iterate it for ``bytes``; the headers are there before the first chunk.
        """
        body, params = self._request_parts(inputs, output_format, model_id, settings, seed,
                                           enable_logging, extra)
        response = self._transport.request("POST", endpoints.DIALOGUE_STREAM, json=body,
                                           params=params, stream=True, in_doubt=take_in_doubt)
        return AudioStream(response, chunk_size=chunk_size)

    def convert_with_timestamps(self, inputs: Sequence[DialogueLine],
                                output_format: str = DEFAULT_OUTPUT_FORMAT,
                                enable_logging: bool | None = None, model_id: str | None = None,
                                settings: Mapping[str, Any] | None = None,
                                seed: int | None = None, **extra: Any) -> DialogueTake:
        """The whole dialogue with character times and who speaks when
        (``POST /v1/text-to-dialogue/with-timestamps``).

        Returns
        -------
        DialogueTake
            ``.audio``, ``.alignment`` (over the lines joined by a space), ``.words`` and
            ``.voice_segments`` (one per line).
        """
        body, params = self._request_parts(inputs, output_format, model_id, settings, seed,
                                           enable_logging, extra)
        started = time.perf_counter()
        response = self._transport.request("POST", endpoints.DIALOGUE_WITH_TIMESTAMPS,
                                           json=body, params=params, in_doubt=take_in_doubt)
        data = self._transport.decode_json(response, "POST", endpoints.DIALOGUE_WITH_TIMESTAMPS)
        return DialogueTake(
            audio=base64.b64decode(data.get("audio_base64") or ""),
            info=ResponseInfo.from_headers(response.headers),
            alignment=Alignment.from_dict(data.get("alignment")),
            normalized_alignment=Alignment.from_dict(data.get("normalized_alignment")),
            voice_segments=_segments(data),
            **self._made_by(body, params, response, started),
        )

    def stream_with_timestamps(self, inputs: Sequence[DialogueLine],
                               output_format: str = DEFAULT_OUTPUT_FORMAT,
                               enable_logging: bool | None = None, model_id: str | None = None,
                               settings: Mapping[str, Any] | None = None,
                               seed: int | None = None, **extra: Any) -> DialogueAudioStream:
        """Stream the dialogue with times and voices
        (``POST /v1/text-to-dialogue/stream/with-timestamps``).

        Returns
        -------
        DialogueAudioStream
            Iterate it for :class:`DialogueChunk` objects.
        """
        body, params = self._request_parts(inputs, output_format, model_id, settings, seed,
                                           enable_logging, extra)
        return DialogueAudioStream(self._transport.request(
            "POST", endpoints.DIALOGUE_STREAM_WITH_TIMESTAMPS, json=body, params=params,
            stream=True, in_doubt=take_in_doubt))
