"""The bad-input table: one row per hostile or malformed request, with what the hosted API does.

The same rows drive ``test_bad_input.py`` (assertions) and ``benchmarks/load.py`` (the README
table), so the documentation cannot drift from what is tested. Each row sends one request and
states the statuses that are correct for it: one status where the reference pins it, a few where
the hosted API leaves it open (the README records which one the local server answers).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from .harness import (
    auth_headers,
    error_message,
    error_status,
    history_ids,
    is_healthy,
    raw_request,
    send_oversized_body,
    stored_files,
    voice_ids,
)

FIFTY_MB = 50 * 1024 * 1024
SHORT_TEXT = "Testing, one two."
WS_TIMEOUT = 30.0


@dataclass
class Target:
    """The server a case is sent to."""

    base_url: str
    data_dir: Path
    voice_id: str
    api_key: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return auth_headers(self.api_key)

    @property
    def ws_url(self) -> str:
        return "ws" + self.base_url[len("http"):]


@dataclass
class Answer:
    """What came back: an HTTP status (or a websocket close code), the body and the message."""

    status: int
    body: object
    message: str
    detail_status: str | None = None

    @property
    def shaped(self) -> bool:
        """Whether the body has the API's error shape: ``detail.status`` + ``detail.message``
        (or a 422 list of ``loc``/``msg``/``type``), or a websocket ``message``/``error`` frame.

        A path that matches no route gets ``{"detail": "Not Found"}``, as on the hosted API.
        """
        if not isinstance(self.body, dict):
            return False
        if self.status == 404 and self.body == {"detail": "Not Found"}:
            return True
        detail = self.body.get("detail")
        if isinstance(detail, dict):
            return bool(detail.get("status")) and bool(detail.get("message"))
        if isinstance(detail, list):
            return all(isinstance(d, dict) and {"loc", "msg", "type"} <= set(d) for d in detail)
        return bool(self.body.get("message")) and bool(self.body.get("error"))


@dataclass(frozen=True)
class Case:
    """One row of the table.

    ``takes`` is how many history items an accepted request leaves behind (0 for every refused
    request: a refusal stores nothing; websocket takes are not kept in the history).
    """

    id: str
    what: str
    send: Callable[[Target], Answer]
    expected: tuple[int, ...]
    detail_status: str | None = None
    takes: int = 0

    @property
    def accepted(self) -> bool:
        """Whether this input is valid and must be served (HTTP 200, websocket close 1000)."""
        return self.expected[0] in (200, 1000)


def _answer_from(status: int, raw: bytes) -> Answer:
    try:
        body: object = json.loads(raw)
    except ValueError:
        body = raw.decode("utf-8", "replace")
    if status < 400:
        return Answer(status, body, "")  # audio or JSON of a served request: no message
    message = error_message(body) if isinstance(body, dict) else str(body)[:300]
    return Answer(status, body, message, error_status(body))


def _http(method: str, path: str, **kwargs: object) -> Callable[[Target], Answer]:
    def send(target: Target) -> Answer:
        url = target.base_url + path.format(voice=target.voice_id)
        response = requests.request(method, url, headers=target.headers, timeout=120, **kwargs)
        return _answer_from(response.status_code, response.content)

    return send


def _raw(method: str, path: str, body: bytes | None = None,
         content_type: str = "application/json") -> Callable[[Target], Answer]:
    def send(target: Target) -> Answer:
        headers = {**target.headers, "Content-Type": content_type}
        response = raw_request(target.base_url, method, path.format(voice=target.voice_id),
                               body=body, headers=headers)
        if b"root:" in response.body:
            raise AssertionError("path traversal: a system file was served")
        return _answer_from(response.status, response.body)

    return send


def _tts(body: object, path: str = "/v1/text-to-speech/{voice}") -> Callable[[Target], Answer]:
    return _http("POST", path, json=body)


def _oversized_json(target: Target) -> Answer:
    head = b'{"text": "'
    response = send_oversized_body(target.base_url, f"/v1/text-to-speech/{target.voice_id}",
                                   FIFTY_MB, content_type="application/json", head=head,
                                   headers=target.headers)
    if response is None:
        return Answer(0, None, "connection closed without an answer")
    return _answer_from(response.status, response.body)


def _oversized_upload(target: Target) -> Answer:
    boundary = "xiwidgetsboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nHuge\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"huge.mp3\"\r\nContent-Type: audio/mpeg\r\n\r\n").encode()
    response = send_oversized_body(target.base_url, "/v1/voices/add", FIFTY_MB,
                                   content_type=f"multipart/form-data; boundary={boundary}",
                                   head=head, headers=target.headers)
    if response is None:
        return Answer(0, None, "connection closed without an answer")
    return _answer_from(response.status, response.body)


def _not_audio_upload(target: Target) -> Answer:
    files = [("files", ("notes.txt", b"these are meeting notes, not a recording\n" * 50,
                        "text/plain"))]
    return _http("POST", "/v1/voices/add", data={"name": "Not audio"}, files=files)(target)


def _voiced_wav(seconds: float = 3.0, rate: int = 16000) -> bytes:
    """A usable sample without a synthesis: a 120 Hz buzz that swells four times a second."""
    import numpy as np

    from xiwidgets.server.audio import float_to_int16
    from xiwidgets.wav import wav_bytes

    t = np.arange(int(seconds * rate)) / rate
    buzz = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 12))
    envelope = 0.5 - 0.5 * np.cos(2 * np.pi * 4 * t)
    return wav_bytes(float_to_int16(0.2 * buzz * envelope).tobytes(), rate)


def _too_many_samples(target: Target) -> Answer:
    files = [("files", (f"s{index}.wav", b"RIFF")) for index in range(26)]
    return _http("POST", "/v1/voices/add", data={"name": "Too many"}, files=files)(target)


def _one_unusable_sample(target: Target) -> Answer:
    files = [("files", ("good.wav", _voiced_wav())), ("files", ("notes.txt", b"not audio " * 50))]
    return _http("POST", "/v1/voices/add", data={"name": "Half good"}, files=files)(target)


def _ws_session(target: Target, messages: list[str | bytes], query: str = "") -> Answer:
    """Send ``messages`` over stream-input (``bytes`` as binary frames), then read until the
    server closes."""
    url = f"{target.ws_url}/v1/text-to-speech/{target.voice_id}/stream-input{query}"
    last_error: dict | None = None
    finals = 0
    with ws_connect(url, additional_headers=target.headers, open_timeout=WS_TIMEOUT,
                    close_timeout=5) as socket_:
        for message in messages:
            try:
                socket_.send(message)
            except ConnectionClosed:
                break
        try:
            while True:
                frame = json.loads(socket_.recv(timeout=WS_TIMEOUT))
                if frame.get("isFinal"):
                    finals += 1
                if "message" in frame or "error" in frame:
                    last_error = frame
        except ConnectionClosed:
            pass
        code, reason = socket_.close_code or 1006, socket_.close_reason or ""
    message = (last_error or {}).get("message") or reason
    if code == 1000 and finals != 1:
        message = f"closed normally after {finals} final messages"
        code = 0
    return Answer(code, last_error, message, (last_error or {}).get("error"))


def _ws_not_json(target: Target) -> Answer:
    return _ws_session(target, ["this is not json {"])


def _ws_after_close(target: Target) -> Answer:
    return _ws_session(target, [json.dumps({"text": " "}), json.dumps({"text": "Hi there. "}),
                                json.dumps({"text": ""}),
                                json.dumps({"text": "This arrives after the end of input. "})])


def _ws(*messages: str | bytes, query: str = "") -> Callable[[Target], Answer]:
    return lambda target: _ws_session(target, list(messages), query)


WS_INIT = json.dumps({"text": " "})


CASES: tuple[Case, ...] = (
    Case("empty-text", "`text` is `\"\"`", _tts({"text": ""}), (400, 422)),
    Case("blank-text", "`text` is only spaces, tabs and newlines", _tts({"text": " \t\n "}),
         (400, 422)),
    Case("text-100k", "`text` of 100 000 characters (model limit 10 000)",
         _tts({"text": "word " * 20_000}), (400,), "max_character_limit_exceeded"),
    Case("control-chars", "control characters (NUL, BEL, ESC) inside a sentence",
         _tts({"text": "Hello\u0000 there\u0007, \u001b[31mfriend."}), (200,), takes=1),
    Case("only-control-chars", "`text` made only of control and zero-width characters",
         _tts({"text": "\u0000\u0007\u001b\u200b\u200d"}), (400, 422)),
    Case("invalid-utf8", "JSON body with invalid UTF-8 bytes",
         _raw("POST", "/v1/text-to-speech/{voice}", b'{"text": "caf\xe9 \xff\xfe"}'),
         (400, 422)),
    Case("emoji-rtl-zero-width", "emoji, Hebrew (RTL) and zero-width joiners in English text",
         _tts({"text": "Hello 👋 world. שלום. Zero\u200bwidth\u200d join 👩\u200d💻."}),
         (200,), takes=1),
    Case("unknown-voice", "unknown voice id", _tts({"text": SHORT_TEXT},
         "/v1/text-to-speech/NoSuchVoice0000000000"), (404,), "voice_not_found"),
    Case("unknown-model", "unknown `model_id`",
         _tts({"text": SHORT_TEXT, "model_id": "eleven_no_such_model"}), (400, 404, 422)),
    Case("unknown-output-format", "unknown `output_format`",
         _http("POST", "/v1/text-to-speech/{voice}?output_format=mp3_1_1",
               json={"text": SHORT_TEXT}), (400, 422)),
    Case("unknown-history-id", "unknown history item id",
         _http("GET", "/v1/history/NoSuchItem0000000000"), (404,)),
    Case("unknown-history-audio", "audio of an unknown history item",
         _http("GET", "/v1/history/NoSuchItem0000000000/audio"), (404,)),
    Case("unknown-history-delete", "delete an unknown history item",
         _http("DELETE", "/v1/history/NoSuchItem0000000000"), (404,)),
    Case("unknown-history-download", "download an unknown history item",
         _http("POST", "/v1/history/download", json={"history_item_ids": ["NoSuchItem"]}),
         (400, 404)),
    Case("dotdot-path", "`../../etc/passwd` as a raw path",
         _raw("GET", "/v1/history/../../../../etc/passwd"), (400, 404)),
    Case("dotdot-encoded", "history id `..%2F..%2Fetc%2Fpasswd`",
         _raw("GET", "/v1/history/..%2F..%2F..%2F..%2Fetc%2Fpasswd/audio"), (400, 404)),
    Case("dotdot-percent-2e", "history id `%2e%2e%2f%2e%2e` (`../..`)",
         _raw("GET", "/v1/history/%2e%2e%2f%2e%2e/audio"), (400, 404)),
    Case("dotdot-voice-preview", "voice id `..%2F..` on the preview route",
         _raw("GET", "/v1/voices/..%2F..%2F..%2Fetc%2Fpasswd/preview"), (400, 404)),
    Case("nul-history-id", "NUL byte (`%00`) inside a history id",
         _raw("GET", "/v1/history/abc%00def/audio"), (400, 404)),
    Case("nul-voice-id", "NUL byte (`%00`) inside a voice id",
         _raw("POST", "/v1/text-to-speech/abc%00def", b'{"text": "Hi."}'), (400, 404)),
    Case("huge-page-size-history", "history `page_size=10**12` (max 1000)",
         _http("GET", "/v1/history?page_size=1000000000000"), (400, 422)),
    Case("huge-page-size-voices", "voices v2 `page_size=10**9` (max 100)",
         _http("GET", "/v2/voices?page_size=1000000000"), (400, 422)),
    Case("negative-page-size", "history `page_size=-1`", _http("GET", "/v1/history?page_size=-1"),
         (400, 422)),
    Case("usage-end-of-time", "usage stats by month for the last second of year 9999",
         _http("GET", "/v1/usage/character-stats?start_unix=253402300798000"
               "&end_unix=253402300799000&aggregation_interval=month"), (200,)),
    Case("negative-speed", "`voice_settings.speed` of -1",
         _tts({"text": SHORT_TEXT, "voice_settings": {"speed": -1}}), (400, 422)),
    Case("negative-seed", "`seed` of -5", _tts({"text": SHORT_TEXT, "seed": -5}), (400, 422)),
    Case("wrong-type-text", "`text` is a number", _tts({"text": 12345}), (400, 422)),
    Case("wrong-type-settings", "`voice_settings` is a string",
         _tts({"text": SHORT_TEXT, "voice_settings": "fast"}), (400, 422)),
    Case("json-array-body", "the body is a JSON array", _tts([SHORT_TEXT]), (400, 422)),
    Case("invalid-json", "truncated JSON body",
         _raw("POST", "/v1/text-to-speech/{voice}", b'{"text": "Hi'), (400, 422)),
    Case("body-50mb", "50 MB JSON body", _oversized_json, (400, 413)),
    Case("upload-50mb", "50 MB voice sample upload", _oversized_upload, (400, 413)),
    Case("upload-not-audio", "voice sample that is a text file", _not_audio_upload, (400, 422)),
    # hardening: voice samples
    Case("upload-26-samples", "26 voice samples in one request (max 25)", _too_many_samples,
         (400,), "too_many_samples"),
    Case("upload-one-unusable-sample", "a usable voice sample and a text file in one request",
         _one_unusable_sample, (400,), "invalid_audio_sample"),
    Case("ws-not-json", "websocket message that is not JSON", _ws_not_json, (1003, 1007, 1008)),
    Case("ws-after-close", "websocket text sent after the end-of-input message",
         _ws_after_close, (1000,)),
    # hardening: websocket
    Case("ws-binary-frame", "websocket binary frame after the first message",
         _ws(WS_INIT, b'{"text": "Hello there. "}'), (1008,), "invalid_request"),
    Case("ws-binary-first", "websocket binary frame as the first message",
         _ws(b"\x00\xff binary"), (1008,), "invalid_request"),
    Case("ws-lone-surrogate", "websocket `text` holding a lone surrogate (`\\ud800`)",
         _ws(WS_INIT, json.dumps({"text": "Hello \ud800 there. ", "flush": True})), (1008,),
         "invalid_text"),
    Case("ws-text-not-string", "websocket `text` that is a number",
         _ws(WS_INIT, json.dumps({"text": 12345})), (1008,), "invalid_request"),
    Case("ws-nan-setting", "websocket `voice_settings.speed` of `NaN` (not JSON)",
         _ws('{"text": " ", "voice_settings": {"speed": NaN}}'), (1008,), "invalid_request"),
    Case("ws-huge-number", "websocket `flush` given as a 5 000-digit number",
         _ws(WS_INIT, '{"text": "Hi. ", "flush": ' + "9" * 5000 + "}"), (1008,),
         "invalid_request"),
    Case("ws-deep-nesting", "websocket message nested 100 000 arrays deep",
         _ws(WS_INIT, '{"text": "Hi. ", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"),
         (1008,), "invalid_request"),
    Case("ws-huge-seed", "websocket `seed` query parameter of 5 000 digits",
         _ws(WS_INIT, query="?seed=" + "9" * 5000), (1008,), "invalid_request"),
    Case("ws-close-socket", "websocket `{\"close_socket\": true}` (multi-stream's end message)",
         _ws(WS_INIT, json.dumps({"text": "Hi there. "}), json.dumps({"close_socket": True})),
         (1000,)),
    # hardening: takes
    Case("lone-surrogate", "`text` with a lone surrogate (`\\ud800`)",
         _tts({"text": "Hello \ud800 there."}), (400,), "invalid_text"),
    Case("lone-surrogate-stream", "`text` with a lone surrogate, on `/stream`",
         _tts({"text": "Hello \ud800 there."}, "/v1/text-to-speech/{voice}/stream"), (400,),
         "invalid_text"),
    Case("lone-surrogate-timestamps", "`text` with a lone surrogate, on `/with-timestamps`",
         _tts({"text": "\udfff Hello."}, "/v1/text-to-speech/{voice}/with-timestamps"), (400,),
         "invalid_text"),
    Case("only-emoji", "`text` made only of emoji", _tts({"text": "👋 🎉🚀 👩\u200d💻"}), (400,),
         "invalid_text"),
    Case("only-punctuation", "`text` made only of punctuation",
         _tts({"text": "?! … — , ; «»"}, "/v1/text-to-speech/{voice}/stream"), (400,),
         "invalid_text"),
    Case("only-symbols", "`text` made only of symbols", _tts({"text": "★ ♫ © → ∞ $ +"}), (400,),
         "invalid_text"),
    Case("only-combining-marks", "`text` made only of combining marks",
         _tts({"text": "\u0301\u0308 \u0327"}), (400,), "invalid_text"),
    Case("nan-stability", "`voice_settings.stability` is `NaN`",
         _raw("POST", "/v1/text-to-speech/{voice}",
              b'{"text": "Hi.", "voice_settings": {"stability": NaN}}'), (400, 422)),
    Case("infinite-speed", "`voice_settings.speed` is `Infinity`",
         _raw("POST", "/v1/text-to-speech/{voice}/stream",
              b'{"text": "Hi.", "voice_settings": {"speed": Infinity}}'), (400, 422)),
    Case("huge-style", "`voice_settings.style` is `1e999`",
         _raw("POST", "/v1/text-to-speech/{voice}",
              b'{"text": "Hi.", "voice_settings": {"style": 1e999}}'), (400, 422)),
    Case("huge-seed", "`seed` is `1e999`",
         _raw("POST", "/v1/text-to-speech/{voice}", b'{"text": "Hi.", "seed": 1e999}'),
         (400, 422)),
    Case("nan-seed", "`seed` is `NaN`",
         _raw("POST", "/v1/text-to-speech/{voice}/with-timestamps",
              b'{"text": "Hi.", "seed": NaN}'), (400, 422)),
    Case("fractional-seed", "`seed` is `1.5`", _tts({"text": SHORT_TEXT, "seed": 1.5}),
         (400, 422)),
    Case("nan-settings-edit", "settings/edit with `stability` `NaN`",
         _raw("POST", "/v1/voices/{voice}/settings/edit", b'{"stability": NaN}'), (400, 422)),
    Case("infinite-settings-edit", "settings/edit with `similarity_boost` `-Infinity`",
         _raw("POST", "/v1/voices/{voice}/settings/edit", b'{"similarity_boost": -Infinity}'),
         (400, 422)),
    Case("nan-history-id", "history download with `NaN` as an id",
         _raw("POST", "/v1/history/download", b'{"history_item_ids": [NaN]}'), (400, 422)),
    Case("download-too-many", "history download of 1 001 distinct ids (max 1 000)",
         _http("POST", "/v1/history/download",
               json={"history_item_ids": [f"NoSuchItem{i:010d}" for i in range(1001)]}),
         (400, 422)),
    Case("usage-infinite-time", "usage stats with `start_unix=1e999`",
         _http("GET", "/v1/usage/character-stats?start_unix=1e999&end_unix=1"), (400, 422)),
)


@dataclass
class Outcome:
    """What one case did to the server."""

    answer: Answer
    new_takes: int
    new_files: set[str]
    new_voices: int
    healthy: bool


def run_case(case: Case, target: Target) -> Outcome:
    """Send ``case`` and measure what it left behind."""
    takes_before = set(history_ids(target.base_url, target.api_key))
    files_before = stored_files(target.data_dir)
    voices_before = set(voice_ids(target.base_url, target.api_key))
    answer = case.send(target)
    healthy = is_healthy(target.base_url, target.api_key)
    new_takes = len(set(history_ids(target.base_url, target.api_key)) - takes_before)
    new_voices = len(set(voice_ids(target.base_url, target.api_key)) - voices_before)
    return Outcome(answer, new_takes, stored_files(target.data_dir) - files_before, new_voices,
                   healthy)


def readable(message: str) -> bool:
    """A message a person can read: a short sentence, not empty, not a traceback or a dump."""
    text = message.strip()
    return (3 <= len(text) <= 600 and "Traceback" not in text and "\n  File " not in text
            and sum(ch.isprintable() for ch in text) == len(text))
