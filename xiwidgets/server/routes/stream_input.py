"""WebSocket ``/v1/text-to-speech/{voice_id}/stream-input``: text in as it is written, audio out.

Text is buffered and synthesized when the buffer passes the next length of
``chunk_length_schedule`` (or on ``flush`` / ``try_trigger_generation`` / end of input; in
``auto_mode`` at every sentence end). The buffer never holds more than the model's per-request
character limit: text that would pass it is spoken at once up to a word boundary, and a single
message longer than the limit is refused; pieces with nothing to say (emoji, punctuation) are
skipped and not billed, except that the break tags of such a piece are held and spoken as the
pause ahead of the next piece (a pause after the stream's last word is dropped). Messages go on
being read while a piece is spoken (see ``_read_ahead``). Audio messages carry camelCase alignment
in milliseconds relative to the message's own audio, as the hosted API does. Errors are a JSON
frame ``{"message", "error", "code": 1008}`` followed by a close with code 1008 (1011 and
``internal_server_error`` for a failure of the server's own); text that is not valid Unicode is
refused with ``invalid_text`` before anything is synthesized. Websocket takes are not stored in
the history.

The first message (the ``{"text": " "}`` that may carry the key) must arrive within
``websocket_init_timeout_s``, and a session counts against ``max_websocket_sessions`` only
once it is authenticated: sockets without a key cannot crowd out the clients that have one.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from pydantic import TypeAdapter, ValidationError

from xiwidgets.break_tags import find_breaks
from xiwidgets.formats import DEFAULT_OUTPUT_FORMAT
from xiwidgets.server.auth import key_is_accepted
from xiwidgets.server.catalog import Model
from xiwidgets.server.dependencies import services
from xiwidgets.server.domain_errors import DomainError
from xiwidgets.server.lexicon import Lexicon
from xiwidgets.server.model_lookup import tts_model
from xiwidgets.server.routes._read_ahead import ReadAhead
from xiwidgets.server.routes._takes import TakeRun
from xiwidgets.server.routes._text_buffer import TextBuffer
from xiwidgets.server.schemas import MAX_SEED, PronunciationDictionaryLocator, VoiceSettingsBody
from xiwidgets.server.services import Services
from xiwidgets.server.take_service import parse_output_format, spoken_spec
from xiwidgets.server.takes import (
    SharedEncoder,
    StreamAlignment,
    TakePiece,
    TakePlan,
    piece_alignments,
)
from xiwidgets.server.text import has_speech, is_valid_unicode, text_problem

router = APIRouter(tags=["text-to-speech"])
logger = logging.getLogger("xiwidgets.server")

# try_trigger_generation only fires once this much text is waiting.
MIN_TRIGGER_CHARS = 50
# Messages held while the session speaks: this many generations' worth of characters.
READ_AHEAD_GENERATIONS = 4
# A close frame's reason is at most 123 bytes of UTF-8.
MAX_CLOSE_REASON_BYTES = 123
NOT_JSON = (
    'Messages must be JSON objects such as {"text": "Hello "}; this one is not valid JSON '
    "(NaN, Infinity and numbers of thousands of digits are not accepted)."
)


class SessionError(Exception):
    """Ends a session with an error frame and a close with ``code`` (1008 for bad input)."""

    def __init__(self, error: str, message: str, code: int = 1008) -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.code = code


@dataclass
class SessionOptions:
    """Connection query parameters (reference §6.1)."""

    model_id: str | None
    output_format: str
    inactivity_timeout: float
    auto_mode: bool
    seed: int | None
    language_code: str | None
    text_normalization: str | None = None

    @classmethod
    def from_query(cls, query: Any, max_timeout: int, default_timeout: int) -> SessionOptions:
        def flag(name: str) -> bool:
            return str(query.get(name, "false")).lower() == "true"

        def integer(name: str, low: int, high: int) -> int | None:
            raw = query.get(name)
            if raw in (None, ""):
                return None
            too_long = len(raw) > len(str(high))  # int() of thousands of digits is refused
            if too_long or not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
                raise SessionError("invalid_request", f"{name} must be an integer {low}–{high}.")
            return int(raw)

        timeout = integer("inactivity_timeout", 1, max_timeout)
        normalization = query.get("apply_text_normalization") or None
        if normalization not in (None, "auto", "on", "off"):
            raise SessionError(
                "invalid_request", "apply_text_normalization must be auto, on or off."
            )
        return cls(
            model_id=query.get("model_id") or None,
            output_format=query.get("output_format") or DEFAULT_OUTPUT_FORMAT,
            inactivity_timeout=float(timeout or default_timeout),
            auto_mode=flag("auto_mode"),
            seed=integer("seed", 0, MAX_SEED),
            language_code=query.get("language_code") or None,
            text_normalization=normalization,
        )


def _parse_schedule(config: Any) -> tuple[int, ...] | None:
    if not isinstance(config, dict) or config.get("chunk_length_schedule") is None:
        return None
    schedule = config["chunk_length_schedule"]
    if (
        not isinstance(schedule, list)
        or not schedule
        or not all(isinstance(n, int) and 50 <= n <= 500 for n in schedule)
    ):
        raise SessionError(
            "invalid_request", "chunk_length_schedule must be a list of integers 50–500."
        )
    return tuple(schedule)


def _websocket_alignment(alignment: dict[str, Any] | None) -> dict[str, Any] | None:
    """The websocket's alignment shape (milliseconds, durations) of a REST alignment."""
    if alignment is None:
        return None
    starts = alignment["character_start_times_seconds"]
    ends = alignment["character_end_times_seconds"]
    return {
        "chars": list(alignment["characters"]),
        "charStartTimesMs": [round(start * 1000) for start in starts],
        "charsDurationsMs": [
            max(0, round((end - start) * 1000)) for start, end in zip(starts, ends, strict=False)
        ],
    }


def _alignments_ms(
    piece: TakePiece, plan: TakePlan
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """``(alignment, normalizedAlignment)`` of a piece, times relative to its chunk."""
    if piece.chunk is None:
        return None, None
    local = TakePiece(piece.audio, piece.chunk, 0.0)
    alignment, normalized = piece_alignments(local, plan.spoken_text)
    return _websocket_alignment(alignment), _websocket_alignment(normalized)


def _not_a_json_number(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):  # 1e999 parses as inf
        raise ValueError("numbers must be finite")
    return value


def decode_message(raw: str, max_chars: int) -> dict[str, Any]:
    """Read one client message as a JSON object (its fields are checked by the caller).

    Raises
    ------
    SessionError
        For a message over ``max_chars``, or one that is not a JSON object (NaN, infinite
        numbers and integers of thousands of digits included).
    """
    if len(raw) > max_chars:
        raise SessionError("message_too_large", "A message may hold at most 1 MB of text.")
    try:
        message = json.loads(raw, parse_constant=_not_a_json_number, parse_float=_finite_float)
    except (ValueError, RecursionError):
        raise SessionError("invalid_request", NOT_JSON) from None
    if not isinstance(message, dict):
        raise SessionError("invalid_request", NOT_JSON)
    return message


def check_text(text: Any) -> str:
    """A message's ``text``, once known to be a string of valid Unicode.

    Raises
    ------
    SessionError
        For a ``text`` that is missing or not a string, or not valid Unicode (``invalid_text``).
    """
    if not isinstance(text, str):
        raise SessionError(
            "invalid_request", 'Every message needs a "text" string (" " to start, "" to end).'
        )
    if not is_valid_unicode(text):
        raise SessionError("invalid_text", text_problem(text) or "The text is not valid Unicode.")
    return text


def parse_message(raw: str, max_chars: int) -> dict[str, Any]:
    """Read one client message: a JSON object with a ``text`` string of valid Unicode.

    ``{"close_socket": true}`` (the multi-stream endpoint's way to end) means end of input.

    Raises
    ------
    SessionError
        See ``decode_message`` and ``check_text``.
    """
    message = decode_message(raw, max_chars)
    if message.get("close_socket") is True:
        message["text"] = ""
    check_text(message.get("text"))
    return message


def lexicon_of(running: Services, message: dict[str, Any]) -> Lexicon | None:
    """The rules of a first message's ``pronunciation_dictionary_locators``.

    Raises
    ------
    SessionError
        For locators that are not a list of ``{pronunciation_dictionary_id, version_id}``,
        more than three, or an unknown dictionary or version.
    """
    given = message.get("pronunciation_dictionary_locators")
    if given is None:
        return None
    try:
        locators = _LOCATORS.validate_python(given)
    except ValidationError:
        raise SessionError(
            "invalid_request",
            "pronunciation_dictionary_locators must be a list of at most 3 objects with a "
            "pronunciation_dictionary_id (and a version_id).",
        ) from None
    try:
        return running.pronunciation.lexicon(
            [(locator.pronunciation_dictionary_id, locator.version_id) for locator in locators]
        )
    except DomainError as exc:
        raise SessionError(exc.status, exc.message) from None


_LOCATORS = TypeAdapter(list[PronunciationDictionaryLocator])


class TextStream:
    """One stream of text becoming audio: the buffer, settings, encoder and rules of one
    stream-input session, or of one context of a multi-stream session.

    Parameters
    ----------
    running : Services
        The server's services.
    voice_id : str
        The voice (already checked).
    model : Model
        The model (already checked).
    options : SessionOptions
        The connection's query parameters.
    request_id : str
        The connection's request id (its takes carry it).
    send : callable
        ``async (message dict) -> None``: sends one JSON message to the client.
    enable_logging : bool
        Whether the stream's generations are kept (``log_history`` collects them).
    """

    def __init__(
        self,
        running: Services,
        voice_id: str,
        model: Model,
        options: SessionOptions,
        request_id: str,
        send: Callable[[dict[str, Any]], Awaitable[None]],
        enable_logging: bool = False,
    ) -> None:
        self.running = running
        self.voice_id = voice_id
        self.model = model
        self.options = options
        self.request_id = request_id
        self.send = send
        self.voice_settings: dict[str, Any] | None = None
        self.lexicon: Lexicon | None = None
        self.buffer = TextBuffer(limit=model.max_characters)
        # One encoder for the whole stream: the audio of all its messages is one stream.
        self.encoder = SharedEncoder(keep_history=enable_logging)
        # What the stream said, for its history item: the takes and their alignment.
        self.spoken: list[TakePlan] = []
        self.alignment = StreamAlignment()
        self.elapsed = 0.0
        # A piece of break tags alone (the buffer released "Hello." before the tag came): its
        # pause goes ahead of the next piece, as the text asked, instead of being skipped.
        self.held_pause = ""

    async def load_rules(self, message: dict[str, Any]) -> None:
        """Take the first message's pronunciation dictionaries (compiled off the event loop)."""
        self.lexicon = await asyncio.to_thread(lexicon_of, self.running, message)

    def apply_settings(self, message: dict[str, Any]) -> None:
        """Take the message's ``voice_settings`` and ``generation_config``."""
        if message.get("voice_settings") is not None:
            try:
                given = VoiceSettingsBody.model_validate(message["voice_settings"]).given()
            except ValidationError as exc:
                problem = exc.errors()[0]
                where = "".join(f".{part}" for part in problem["loc"])
                raise SessionError(
                    "invalid_request", f"voice_settings{where}: {problem['msg']}"
                ) from None
            if self.voice_settings is not None and given != self.voice_settings:
                raise SessionError(
                    "invalid_request", "voice_settings may only be set in the first message."
                )
            self.voice_settings = given
        config = message.get("generation_config") or message.get("generator_config")
        schedule = _parse_schedule(config)
        if schedule:
            self.buffer.schedule = schedule

    async def add_text(self, message: dict[str, Any]) -> None:
        """Buffer the message's text and speak what the schedule (or auto_mode) releases."""
        buffer, options = self.buffer, self.options
        text = message.get("text") or ""
        if len(text) > buffer.limit:
            raise SessionError(
                "max_character_limit_exceeded",
                f"A message has {len(text):,} characters but model {self.model.model_id} "
                f"speaks at most {buffer.limit:,} at a time; send the text in smaller messages.",
            )
        buffer.append(text)
        while len(buffer) > buffer.limit:
            await self.speak(buffer.take(everything=False))
        if message.get("flush") or (options.auto_mode and buffer.ends_sentence):
            await self.speak_all()
        elif not options.auto_mode:
            pending = len(buffer)
            triggered = message.get("try_trigger_generation") and pending >= MIN_TRIGGER_CHARS
            if triggered or pending >= buffer.threshold():
                await self.speak(buffer.take(everything=False))

    async def speak_all(self) -> None:
        while len(self.buffer):
            await self.speak(self.buffer.take(everything=True))

    async def speak(self, text: str) -> None:
        held, self.held_pause = self.held_pause, ""
        if held and len(held) + len(text) <= self.buffer.limit:
            text = held + text
        if not has_speech(text):
            # Nothing to say in this piece (emoji, punctuation): skipped, not billed. Its break
            # tags are the pause before what comes next.
            if find_breaks(text):
                self.held_pause = text
            return
        self.buffer.generations += 1
        try:
            plan = self.running.takes.plan_take(
                request_id=self.request_id,
                voice_id=self.voice_id,
                text=text,
                model_id=self.model.model_id,
                voice_settings=self.voice_settings,
                output_format=self.options.output_format,
                seed=self.options.seed,
                streaming=True,
                enable_logging=False,
                websocket=True,
                lexicon=self.lexicon,
                text_normalization=self.options.text_normalization,
                language_code=self.options.language_code,
            )
        except DomainError as exc:
            raise SessionError(exc.status, exc.message) from None
        run = TakeRun(self.running.takes, plan, self.encoder)
        finished = False
        try:
            async for piece in run.pieces():
                if piece.audio or piece.chunk is not None:
                    await self.send_audio(piece.audio, *_alignments_ms(piece, plan))
                if piece.chunk is not None:
                    self.alignment.add(piece, plan.spoken_text, self.elapsed + piece.offset_s)
                if piece.final:
                    self.elapsed += piece.offset_s
                    finished = True
        finally:
            # Said is what was billed: also a take settled just before the client went
            # away (this reader stopped before its final piece), never one refunded.
            if finished or await run.settled():
                self.spoken.append(plan)

    async def send_audio(
        self,
        audio: bytes,
        alignment: dict[str, Any] | None,
        normalized: dict[str, Any] | None = None,
    ) -> None:
        await self.send(
            {
                "audio": base64.b64encode(audio).decode(),
                "isFinal": False,
                "normalizedAlignment": normalized,
                "alignment": alignment,
            }
        )

    async def finish_audio(self) -> None:
        """Speak what is left and send the encoder's last bytes."""
        await self.speak_all()
        tail = self.encoder.finish()
        if tail:
            await self.send_audio(tail, None)


class Session:
    """One stream-input connection: the socket's checks, and one ``TextStream``."""

    def __init__(self, websocket: WebSocket, voice_id: str, running: Services) -> None:
        self.websocket = websocket
        self.voice_id = voice_id
        self.running = running
        self.config = running.config
        self.authorized = key_is_accepted(running, websocket.headers.get("xi-api-key"))
        self.counted = False
        # Known once the query, the voice and the model have been checked (in run()).
        self.options: SessionOptions
        self.model: Model
        self.stream: TextStream

    @property
    def request_id(self) -> str:
        """The connection's request id."""
        request_id: str = self.websocket.scope["state"]["request_id"]
        return request_id

    def admit(self) -> None:
        """Count this (authenticated) session against ``max_websocket_sessions``."""
        if not self.running.concurrency.open_websocket_session():
            raise SessionError(
                "too_many_concurrent_requests",
                "Too many open stream-input sessions on this server; close one and retry.",
            )
        self.counted = True

    def release(self) -> None:
        """Give the session's slot back (once; nothing when it was never counted)."""
        if self.counted:
            self.counted = False
            self.running.concurrency.close_websocket_session()

    def check_voice_model_format(self) -> None:
        try:
            voice = self.running.voices.voice(self.voice_id)
            self.model = tts_model(self.options.model_id, websocket=True)
            # A language_code the voice cannot read is refused now, as the HTTP routes refuse
            # it, not when the first text is spoken.
            spoken_spec(self.model, voice.spec, self.options.language_code)
            parse_output_format(self.options.output_format, streaming=True)
        except DomainError as exc:
            raise SessionError(exc.status, exc.message) from None
        self.stream = TextStream(
            self.running,
            self.voice_id,
            self.model,
            self.options,
            self.request_id,
            self.websocket.send_json,
        )

    async def read(self) -> tuple[dict[str, Any], int]:
        """The next message, parsed, with its size as sent (in characters)."""
        raw = await self.read_raw()
        return parse_message(raw, self.config.websocket_max_message_bytes), len(raw)

    async def read_raw(self) -> str:
        """The next text frame as it came."""
        event = await self.websocket.receive()
        if event["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(event.get("code", 1000), event.get("reason"))
        raw = event.get("text")
        if raw is None:
            raise SessionError(
                "invalid_request",
                "Messages must be JSON text frames; this server does not read binary frames.",
            )
        text: str = raw
        return text

    async def receive_first(self, timeout: float) -> dict[str, Any]:
        try:
            message, _ = await asyncio.wait_for(self.read(), timeout=timeout)
        except asyncio.TimeoutError:
            raise SessionError(
                "input_timeout_exceeded", self._timeout_message(timeout, True)
            ) from None
        return message

    async def receive_next(self, inbox: ReadAhead, timeout: float | None = None) -> dict[str, Any]:
        timeout = timeout or self.options.inactivity_timeout
        try:
            return await inbox.get(timeout)
        except asyncio.TimeoutError:
            raise SessionError(
                "input_timeout_exceeded", self._timeout_message(timeout, False)
            ) from None

    def _timeout_message(self, timeout: float, first: bool) -> str:
        if not first:
            return (
                f"No text received for {timeout:g} seconds; send "
                '{"text": " "} to keep the connection open or {"text": ""} to finish.'
            )
        key_hint = "" if self.authorized else ' with "xi_api_key" (or the xi-api-key header)'
        return (
            f'No first message within {timeout:g} seconds of connecting; send {{"text": " "}}'
            f"{key_hint} as soon as the socket is open."
        )

    def authenticate(self, message: dict[str, Any]) -> None:
        key = message.get("xi_api_key") or message.get("xi-api-key")
        if isinstance(key, str) and is_valid_unicode(key):
            self.authorized = key_is_accepted(self.running, key)
        if not self.authorized:
            raise SessionError(
                "invalid_api_key",
                "Invalid API key: send it in the 'xi-api-key' header or as 'xi_api_key' in the "
                "first message.",
            )

    async def open(self) -> dict[str, Any]:
        """Check the query, authenticate and admit the session; return its first message."""
        self.options = SessionOptions.from_query(
            self.websocket.query_params,
            self.config.max_inactivity_timeout_s,
            self.config.default_inactivity_timeout_s,
        )
        # With the key in the headers (or a server without keys) the session counts at once and
        # the caller learns straight away whether voice, model and format exist. Otherwise the
        # key must come in the first message, and only then is either done.
        if self.authorized:
            self.admit()
            self.check_voice_model_format()
        init_timeout = min(self.config.websocket_init_timeout_s, self.options.inactivity_timeout)
        first = await self.receive_first(init_timeout)
        if not self.authorized:
            self.authenticate(first)
            self.admit()
            self.check_voice_model_format()
        return first

    async def finish(self) -> None:
        await self.stream.finish_audio()
        await self.websocket.send_json({"isFinal": True})
        await self.websocket.close(code=1000)

    async def run(self) -> None:
        first = await self.open()
        await self.stream.load_rules(first)
        self.stream.apply_settings(first)
        if first["text"].strip():  # the first message only opens the stream, even when ""
            await self.stream.add_text(first)
        # From here on messages are read while the session speaks (see _read_ahead).
        inbox = ReadAhead(
            self.read,
            READ_AHEAD_GENERATIONS * self.stream.buffer.limit,
            is_last=lambda message: message["text"] == "",
        )
        inbox.start()
        try:
            while True:
                message = await self.receive_next(inbox)
                self.stream.apply_settings(message)
                if message["text"] == "":
                    await self.finish()
                    return
                await self.stream.add_text(message)
        finally:
            await inbox.stop()


@router.websocket("/v1/text-to-speech/{voice_id}/stream-input")
async def stream_input(
    websocket: WebSocket, voice_id: str, running: Annotated[Services, Depends(services)]
) -> None:
    """Speak text sent over a websocket while it is being written."""
    await websocket.accept()
    await serve_session(websocket, Session(websocket, voice_id, running))


async def serve_session(websocket: WebSocket, session: Session) -> None:
    """Run a session, ending it with an error frame and close code for whatever stops it."""
    try:
        await session.run()
    except SessionError as exc:
        await _fail(websocket, exc)
    except WebSocketDisconnect:
        pass
    except Exception as exc:
        # Still an error frame and a proper close, never a bare 1006: the client can say why.
        request_id = websocket.scope["state"]["request_id"]
        logger.exception("stream-input session %s failed", request_id)
        message = (
            f"The server failed on this session ({type(exc).__name__}); quote request id "
            f"{request_id} when reporting it."
        )
        await _fail(websocket, SessionError("internal_server_error", message, code=1011))
    finally:
        session.release()


async def _fail(websocket: WebSocket, error: SessionError) -> None:
    frame = {"message": error.message, "error": error.error, "code": error.code}
    # ASCII JSON and a reason cut to whole UTF-8 characters: the frame and the close must go
    # out whatever the message holds.
    reason = error.message.encode("utf-8", "replace")[:MAX_CLOSE_REASON_BYTES]
    with contextlib.suppress(Exception):
        await websocket.send_text(json.dumps(frame))
        await websocket.close(code=error.code, reason=reason.decode("utf-8", "ignore"))
