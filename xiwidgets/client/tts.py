"""Text to speech: whole takes, streamed chunks, timestamps, and the realtime WebSocket."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from xiwidgets.client import endpoints
from xiwidgets.client.argument_order import sdk_argument_order
from xiwidgets.client.errors import XIError, take_in_doubt
from xiwidgets.client.history import History
from xiwidgets.client.ledger import Ledger
from xiwidgets.client.realtime import realtime_chunks
from xiwidgets.client.recovery import LostTake, recovered_or_raise
from xiwidgets.client.streaming import DEFAULT_CHUNK_SIZE, AudioStream, TimedAudioStream
from xiwidgets.client.types import (
    Alignment,
    HistoryItem,
    RealtimeChunk,
    ResponseInfo,
    Take,
    TimedTake,
    Voice,
    VoiceSettings,
)
from xiwidgets.client.voices import SettingsLike, VoiceRef, settings_dict
from xiwidgets.formats import DEFAULT_OUTPUT_FORMAT, HISTORY_OUTPUT_FORMAT, codec_of_format

if TYPE_CHECKING:
    from xiwidgets.client.transport import Transport
    from xiwidgets.client.voices import Voices
    from xiwidgets.experiments.best_of import BestOf

logger = logging.getLogger("xiwidgets.client")

_LEDGER_FIELDS = frozenset({"text", "model_id", "voice_settings", "seed", "output_format"})
# What the first argument order took positionally after (text, voice); see ``argument_order``.
_OLD_POSITIONALS = ("model_id", "voice_settings", "output_format", "seed")


def _ledger(voice: VoiceRef, voice_id: str, body: dict[str, Any], params: dict[str, Any],
            response: Any, started: float) -> dict[str, Any]:
    """What made a take and how long it took: kept on the take to repeat the experiment."""
    name = voice.name if isinstance(voice, Voice) else (voice if voice != voice_id else None)
    settings = body.get("voice_settings")
    return {
        "text": body["text"], "voice_id": voice_id, "voice_name": name,
        "model_id": body.get("model_id"), "seed": body.get("seed"),
        "voice_settings": VoiceSettings.from_dict(settings) if settings else None,
        "output_format": params["output_format"],
        "options": {k: v for k, v in {**body, **params}.items() if k not in _LEDGER_FIELDS},
        "time_to_first_byte": None if response is None else response.elapsed.total_seconds(),
        "total_time": time.perf_counter() - started,
    }


class TextToSpeech:
    """``client.tts``: turn text into audio.

    A take is billed once the server has made it, so a request that fails after the server may
    have done so is not sent again: the error names the ``request_id``/``history_item_id`` to
    look for in ``client.history`` (see :mod:`xiwidgets.client.transport` for what is retried).

    Every method takes the arguments in the official ElevenLabs SDK's order: ``voice`` first (a
    :class:`Voice`, a voice_id or a voice name; ``voice_id=`` as the SDK spells it), then
    ``text=`` and the API's body fields as keywords: ``model_id`` (the server's default when
    ``None``), ``voice_settings`` (a :class:`VoiceSettings` or a mapping; overrides the voice's
    stored settings for this request only), ``output_format`` (``"mp3_44100_128"``,
    ``"pcm_24000"``…), ``seed``, and any further body field of the API (``language_code=``,
    ``previous_text=``…). So ``client.tts.convert(voice, text="Hello")``; the first order,
    ``convert("Hello", voice)``, still works and raises a ``DeprecationWarning``.
    """

    def __init__(self, transport: Transport, voices: Voices, ledger: Ledger | None = None) -> None:
        self._transport = transport
        self._voices = voices
        self._ledger = ledger if ledger is not None else Ledger()

    def _request_parts(self, text: str, voice: VoiceRef, model_id: str | None,
                       voice_settings: SettingsLike | None, output_format: str,
                       seed: int | None, extra: dict[str, Any]
                       ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, not {type(text).__name__}")
        body = {"text": text, "model_id": model_id, "voice_settings": settings_dict(voice_settings),
                "seed": seed}
        params = {"output_format": output_format}
        for name in ("enable_logging", "optimize_streaming_latency"):
            if name in extra:
                value = extra.pop(name)
                params[name] = str(value).lower() if isinstance(value, bool) else value
        body.update(extra)
        body = {k: v for k, v in body.items() if v is not None}
        return self._voices.resolve_id(voice), body, params

    @sdk_argument_order(_OLD_POSITIONALS)
    def convert(self, voice: VoiceRef, *, text: str, model_id: str | None = None,
                voice_settings: SettingsLike | None = None,
                output_format: str = DEFAULT_OUTPUT_FORMAT, seed: int | None = None,
                **extra: Any) -> Take:
        """Synthesize ``text`` and return the whole take (``POST /v1/text-to-speech/{id}``).

        Returns
        -------
        Take
            ``.audio`` bytes plus ``request_id``, ``history_item_id``, ``character_cost``.
        """
        voice_id, body, params = self._request_parts(text, voice, model_id, voice_settings,
                                                     output_format, seed, extra)
        started, sent = time.perf_counter(), time.time()
        try:
            response = self._transport.request("POST", endpoints.tts(voice_id), json=body,
                                               params=params, in_doubt=take_in_doubt)
        except XIError as error:
            return self._from_history(error, voice, voice_id, body, params, started, sent,
                                      timed=False)
        take = Take(response.content, ResponseInfo.from_headers(response.headers),
                    **_ledger(voice, voice_id, body, params, response, started))
        self._ledger.record(take)
        return take

    def _from_history(self, error: XIError, voice: VoiceRef, voice_id: str,
                      body: dict[str, Any], params: dict[str, Any], started: float,
                      sent: float, *, timed: bool) -> Take:
        """The take a failed request may still have made, from the history; else ``error``."""
        lost = LostTake(voice_id, body["text"], body.get("model_id"), sent,
                        received=self._ledger)
        history = History(self._transport, self._ledger)

        def build(item: HistoryItem) -> Take:
            logger.warning("the response to a text-to-speech request was lost; returning its "
                           "take %s from the history instead of making it again",
                           item.history_item_id)
            audio = history.audio(item.history_item_id)
            requested = params["output_format"]
            codec = codec_of_format(requested)
            # The history keeps MP3: a take asked for in another codec comes back as that MP3.
            kept = requested if codec is not None and codec.name == "mp3" else (
                HISTORY_OUTPUT_FORMAT)
            ledger = {**_ledger(voice, voice_id, body, {**params, "output_format": kept},
                                None, started)}
            info = ResponseInfo(request_id=item.request_id,
                                history_item_id=item.history_item_id,
                                character_cost=item.character_cost,
                                content_type=item.content_type)
            take: Take
            if timed:
                aligned = item.extra.get("alignments") or {}
                take = TimedTake(audio=audio, info=info,
                                 alignment=Alignment.from_dict(aligned.get("alignment")),
                                 normalized_alignment=Alignment.from_dict(
                                     aligned.get("normalized_alignment")),
                                 **ledger)
            else:
                take = Take(audio, info, **ledger)
            self._ledger.record(take)
            return take

        return recovered_or_raise(self._transport, lost, error, build)

    @sdk_argument_order((*_OLD_POSITIONALS, "chunk_size"))
    def stream(self, voice: VoiceRef, *, text: str, model_id: str | None = None,
               voice_settings: SettingsLike | None = None,
               output_format: str = DEFAULT_OUTPUT_FORMAT, seed: int | None = None,
               chunk_size: int = DEFAULT_CHUNK_SIZE, **extra: Any) -> AudioStream:
        """Start streaming ``text`` as audio (``POST .../stream``).

        The request is sent at once: errors raise here, and the headers (``request_id``…) are
        available before iterating. Iterate the result for ``bytes`` chunks as they arrive.

        Returns
        -------
        AudioStream
        """
        voice_id, body, params = self._request_parts(text, voice, model_id, voice_settings,
                                                     output_format, seed, extra)
        response = self._transport.request("POST", endpoints.tts_stream(voice_id), json=body,
                                           params=params, stream=True, in_doubt=take_in_doubt)
        return AudioStream(response, chunk_size=chunk_size)

    @sdk_argument_order(_OLD_POSITIONALS)
    def convert_with_timestamps(self, voice: VoiceRef, *, text: str,
                                model_id: str | None = None,
                                voice_settings: SettingsLike | None = None,
                                output_format: str = DEFAULT_OUTPUT_FORMAT,
                                seed: int | None = None, **extra: Any) -> TimedTake:
        """Synthesize ``text`` with per-character timings (``POST .../with-timestamps``).

        Returns
        -------
        TimedTake
            ``.audio``, ``.alignment`` and ``.normalized_alignment`` plus the response headers.
        """
        voice_id, body, params = self._request_parts(text, voice, model_id, voice_settings,
                                                     output_format, seed, extra)
        path = endpoints.tts_with_timestamps(voice_id)
        started, sent = time.perf_counter(), time.time()
        try:
            response = self._transport.request("POST", path, json=body, params=params,
                                               in_doubt=take_in_doubt)
        except XIError as error:
            recovered = self._from_history(error, voice, voice_id, body, params, started, sent,
                                           timed=True)
            assert isinstance(recovered, TimedTake)
            return recovered
        data = self._transport.decode_json(response, "POST", path)
        take = TimedTake(
            audio=base64.b64decode(data.get("audio_base64") or ""),
            info=ResponseInfo.from_headers(response.headers),
            alignment=Alignment.from_dict(data.get("alignment")),
            normalized_alignment=Alignment.from_dict(data.get("normalized_alignment")),
            **_ledger(voice, voice_id, body, params, response, started),
        )
        self._ledger.record(take)
        return take

    @sdk_argument_order(("n", "by"))
    def best_of(self, voice: VoiceRef, *, text: str, n: int = 4, by: str = "wer",
                seeds: Sequence[int] | None = None, metrics: Iterable[str] | None = None,
                timestamps: bool = False, max_concurrency: int = 2, **request: Any) -> BestOf:
        """Make ``n`` takes of ``text`` with different seeds and keep the best by ``by``.

        Needs the ``eval`` extra. Every candidate is billed; the seeds and figures of all of
        them are in the returned table, so any one can be made again.

        Parameters
        ----------
        voice : Voice or str
            A :class:`Voice`, a voice_id or a voice name.
        text : str
            What to say.
        n : int, default 4
            How many candidates (ignored when ``seeds`` is given).
        by : {"wer", "dnsmos"}
            The figure that picks the winner: lowest word error rate, or highest DNSMOS.
        seeds : sequence of int, optional
            The candidates' seeds; ``n`` random distinct seeds by default.
        metrics : iterable of str, optional
            Further figures for the table (see :func:`xiwidgets.experiments.evaluate`).
        timestamps : bool, default False
            Make timed takes (``convert_with_timestamps``), which have words and captions.
        max_concurrency : int, default 2
            Candidates requested at once.
        **request
            ``model_id``, ``voice_settings``, ``output_format`` and any body field of
            :meth:`convert`.

        Returns
        -------
        BestOf
            ``(take, candidates)``: the best take, and a DataFrame with one row per candidate
            (seed, request_id, history_item_id, character_cost, the figures, ``best``).

        Raises
        ------
        ValueError
            ``n`` below 1, or a ``by`` that does not rank takes, before anything is billed.
        """
        from xiwidgets.experiments.best_of import best_of

        convert = self.convert_with_timestamps if timestamps else self.convert
        return best_of(lambda t, **kw: convert(voice, text=t, **kw), text, n, by, seeds=seeds,
                       metrics=metrics, max_concurrency=max_concurrency, **request)

    @sdk_argument_order(_OLD_POSITIONALS)
    def stream_with_timestamps(self, voice: VoiceRef, *, text: str,
                               model_id: str | None = None,
                               voice_settings: SettingsLike | None = None,
                               output_format: str = DEFAULT_OUTPUT_FORMAT,
                               seed: int | None = None, **extra: Any) -> TimedAudioStream:
        """Stream audio with timings (``POST .../stream/with-timestamps``).

        Returns
        -------
        TimedAudioStream
            Iterate it for :class:`TimedChunk` objects (audio bytes + alignment).
        """
        voice_id, body, params = self._request_parts(text, voice, model_id, voice_settings,
                                                     output_format, seed, extra)
        return TimedAudioStream(self._transport.request(
            "POST", endpoints.tts_stream_with_timestamps(voice_id), json=body, params=params,
            stream=True, in_doubt=take_in_doubt))

    @sdk_argument_order(("model_id", "voice_settings", "output_format", "chunk_length_schedule",
                         "sync_alignment", "open_timeout"), text="text_chunks")
    def realtime(self, voice: VoiceRef, *, text_chunks: Iterable[str] | str,
                 model_id: str | None = None, voice_settings: SettingsLike | None = None,
                 output_format: str = DEFAULT_OUTPUT_FORMAT,
                 chunk_length_schedule: Sequence[int] | None = (50,),
                 sync_alignment: bool = True, open_timeout: float = 10.0,
                 **params: Any) -> Iterator[RealtimeChunk]:
        """Speak text while it is still being produced (WebSocket ``stream-input``).

        Parameters
        ----------
        voice : Voice or str
            A :class:`Voice`, a voice_id or a voice name.
        text_chunks : iterable of str, or str
            Pieces of text, e.g. tokens from a language model; consumed in a background thread.
        model_id : str, optional
            The server's default model when ``None``.
        voice_settings : VoiceSettings or mapping, optional
            Sent once, in the first message.
        output_format : str
            Audio encoding of the chunks.
        chunk_length_schedule : sequence of int, optional
            Characters to buffer before each generation (the API's ``generation_config``).
        sync_alignment : bool
            Ask for character timings with every chunk.
        open_timeout : float
            Seconds to wait for the connection.
        **params
            Further query parameters (``language_code``, ``inactivity_timeout``, ``seed``…).

        Yields
        ------
        RealtimeChunk
            Audio bytes and chunk-relative alignment, as the server sends them.
        """
        voice_id = self._voices.resolve_id(voice)
        init: dict[str, Any] = {}
        if voice_settings is not None:
            init["voice_settings"] = settings_dict(voice_settings)
        if chunk_length_schedule:
            init["generation_config"] = {"chunk_length_schedule": list(chunk_length_schedule)}
        query = {"model_id": model_id, "output_format": output_format,
                 "sync_alignment": sync_alignment, **params}
        return realtime_chunks(self._transport, voice_id, text_chunks, init_message=init,
                               params=query, open_timeout=open_timeout)
