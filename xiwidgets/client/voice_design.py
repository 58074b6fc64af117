"""Voice design: previews of voices made from a description, and keeping one as a voice.

``client.voice_design`` (also ``client.text_to_voice``, the official SDK's name) has the
official SDK's methods: ``design``, ``create`` and ``preview.stream``.
"""

from __future__ import annotations

import base64
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xiwidgets.client import endpoints
from xiwidgets.client.errors import StreamInterrupted, connection_reason
from xiwidgets.client.streaming import DROPPED_CONNECTION_ERRORS
from xiwidgets.client.types import Voice

if TYPE_CHECKING:
    from xiwidgets.client.transport import Transport
    from xiwidgets.client.voices import Voices


@dataclass(frozen=True)
class VoicePreview:
    """One designed voice, heard through its preview.

    Attributes
    ----------
    generated_voice_id : str
        Give it to :meth:`VoiceDesign.create` to keep the voice.
    audio : bytes
        The preview's audio file (empty when the design was made with ``stream_previews``).
    media_type : str
        E.g. ``"audio/mpeg"``.
    duration_secs : float
        Length of the preview.
    language : str or None
        The language it speaks, when the API says.
    """

    generated_voice_id: str
    audio: bytes
    media_type: str
    duration_secs: float
    language: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VoicePreview:
        """Build from the API's ``VoicePreviewResponseModel`` (audio decoded from base64)."""
        return cls(
            generated_voice_id=str(data["generated_voice_id"]),
            audio=base64.b64decode(data.get("audio_base_64") or ""),
            media_type=str(data.get("media_type") or "audio/mpeg"),
            duration_secs=float(data.get("duration_secs") or 0.0),
            language=data.get("language"),
        )

    def _repr_html_(self) -> str:
        """A player in a notebook (the preview is a few seconds: inline data is fine)."""
        encoded = base64.b64encode(self.audio).decode("ascii")
        return (
            f'<audio controls aria-label="Preview {self.generated_voice_id}" '
            f'src="data:{self.media_type};base64,{encoded}"></audio>'
        )


@dataclass(frozen=True)
class VoiceDesignResult:
    """The answer to a design: three previews and the text they read."""

    previews: tuple[VoicePreview, ...]
    text: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VoiceDesignResult:
        """Build from the API's ``VoicePreviewsResponseModel``."""
        previews = tuple(VoicePreview.from_dict(p) for p in data.get("previews") or ())
        return cls(previews=previews, text=str(data.get("text") or ""))


class PreviewStream:
    """``client.voice_design.preview``: a designed voice's preview, streamed."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def stream(self, generated_voice_id: str) -> Generator[bytes, None, None]:
        """The preview's MP3 bytes as they arrive
        (``GET /v1/text-to-voice/{generated_voice_id}/stream``).

        The request is sent on the first ``next()``; ``close()`` the generator to drop a
        stream before its end (its connection is closed).

        Raises
        ------
        NotFound
            For an unknown or expired ``generated_voice_id``.
        StreamInterrupted
            When the connection drops before the end (``partial`` holds what came; streaming
            a preview is free, so streaming it again costs nothing).
        """
        response = self._transport.request(
            "GET", endpoints.text_to_voice_stream(generated_voice_id), stream=True
        )
        received = bytearray()
        with response:
            try:
                for chunk in response.iter_content(chunk_size=16384):
                    received += chunk
                    yield chunk
            except DROPPED_CONNECTION_ERRORS as exc:
                reason = connection_reason(exc) or type(exc).__name__
                raise StreamInterrupted(
                    f"The preview stream was cut off after {len(received)} bytes ({reason}). "
                    "Streaming a preview is free: try again.",
                    partial=bytes(received), message=reason,
                    status_code=response.status_code, response=response,
                ) from None


class VoiceDesign:
    """``client.voice_design``: design a voice from a description and keep the one you like."""

    def __init__(self, transport: Transport, voices: Voices) -> None:
        self._transport = transport
        self._voices = voices
        self.preview = PreviewStream(transport)

    def design(
        self,
        voice_description: str,
        *,
        text: str | None = None,
        auto_generate_text: bool | None = None,
        output_format: str | None = None,
        model_id: str | None = None,
        loudness: float | None = None,
        seed: int | None = None,
        guidance_scale: float | None = None,
        quality: float | None = None,
        stream_previews: bool | None = None,
        **extra: Any,
    ) -> VoiceDesignResult:
        """Three previews of voices that fit ``voice_description``
        (``POST /v1/text-to-voice/design``; the text is billed once).

        Parameters
        ----------
        voice_description : str
            20–1000 characters: gender, age, accent, pitch, pace, tone ("A deep, slow male
            voice with a British accent").
        text : str, optional
            100–1000 characters the previews read; without it, set ``auto_generate_text``.
        auto_generate_text : bool, optional
            Let the API choose a text that suits the description. When neither this nor
            ``text`` is given, it is set, so ``design("...")`` alone works.
        output_format : str, optional
            The previews' encoding (the API's default is ``mp3_44100_192``).
        model_id, loudness, seed, guidance_scale, quality, stream_previews
            As the API documents them; ``seed`` repeats a design.
        **extra
            Further request fields, sent as given.

        Returns
        -------
        VoiceDesignResult
        """
        if text is None and auto_generate_text is None:
            auto_generate_text = True
        body = {
            "voice_description": voice_description, "text": text,
            "auto_generate_text": auto_generate_text, "model_id": model_id,
            "loudness": loudness, "seed": seed, "guidance_scale": guidance_scale,
            "quality": quality, "stream_previews": stream_previews, **extra,
        }
        params = {"output_format": output_format} if output_format else None
        answer = self._transport.json(
            "POST", endpoints.TEXT_TO_VOICE_DESIGN, params=params,
            json={key: value for key, value in body.items() if value is not None},
        )
        return VoiceDesignResult.from_dict(answer)

    def create(
        self,
        voice_name: str,
        voice_description: str,
        generated_voice_id: str,
        *,
        labels: Mapping[str, str] | None = None,
        played_not_selected_voice_ids: Sequence[str] | None = None,
    ) -> Voice:
        """Keep a designed voice (``POST /v1/text-to-voice``): it is listed with the others.

        Parameters
        ----------
        voice_name : str
            Its name.
        voice_description : str
            20–1000 characters about it.
        generated_voice_id : str
            From a :class:`VoicePreview`.
        labels : mapping, optional
            Added to the labels the description gave (gender, age, accent...).
        played_not_selected_voice_ids : sequence of str, optional
            The other previews you heard (the hosted API learns from them).

        Returns
        -------
        Voice
            The new voice (category ``"generated"``).
        """
        body: dict[str, Any] = {
            "voice_name": voice_name, "voice_description": voice_description,
            "generated_voice_id": generated_voice_id,
        }
        if labels is not None:
            body["labels"] = dict(labels)
        if played_not_selected_voice_ids is not None:
            body["played_not_selected_voice_ids"] = list(played_not_selected_voice_ids)
        created = self._transport.json(
            "POST", endpoints.TEXT_TO_VOICE, json=body,
            in_doubt=lambda _info: (
                f"The voice may have been created: look for {voice_name!r} in "
                "client.voices.list() before creating it again."
            ),
        )
        self._voices.forget_cache()
        return Voice.from_dict(created)
