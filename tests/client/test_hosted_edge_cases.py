"""Hosted-API behaviour the local server does not produce, replayed with ``responses``."""

from __future__ import annotations

import io
import json

import pytest
import requests
import responses
from responses import matchers
from urllib3.exceptions import MaxRetryError, NewConnectionError

from xiwidgets.client import (
    AuthenticationError,
    Client,
    ConnectionFailed,
    InvalidRequest,
    NotFound,
    QuotaExceeded,
    RateLimited,
    ServerError,
    StreamInterrupted,
)

from .helpers import HOSTED, SECRET_KEY

VOICE = "21m00Tcm4TlvDq8ikWAM"
TTS_URL = f"{HOSTED}/v1/text-to-speech/{VOICE}"
STREAM_URL = f"{TTS_URL}/stream"
VOICES_URL = f"{HOSTED}/v1/voices"
VOICE_LIST = {"voices": [{"voice_id": VOICE, "name": "Rachel", "category": "premade"}]}


def _detail(status: str, message: str) -> dict:
    return {"detail": {"status": status, "message": message}}


@pytest.fixture
def hosted() -> Client:
    return Client(api_key=SECRET_KEY, max_retries=3)


@pytest.fixture
def api() -> responses.RequestsMock:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(VOICES_URL, json=VOICE_LIST)
        yield mock


def test_429_with_retry_after_is_waited_out_then_succeeds(hosted, api, no_sleep):
    api.post(TTS_URL, status=429, headers={"Retry-After": "2"},
             json=_detail("too_many_concurrent_requests", "Too many concurrent requests."))
    api.post(TTS_URL, body=b"ID3audio", headers={"request-id": "r1", "character-cost": "5"})

    take = hosted.tts.convert(VOICE, text="Hello")

    assert take.audio == b"ID3audio"
    assert take.request_id == "r1" and take.character_cost == 5
    assert no_sleep == [2.0]


def test_429_that_persists_raises_rate_limited_with_retry_after(hosted, api, no_sleep):
    for _ in range(4):
        api.post(TTS_URL, status=429, headers={"Retry-After": "3"},
                 json=_detail("system_busy", "The system is busy."))

    with pytest.raises(RateLimited) as caught:
        hosted.tts.convert(VOICE, text="Hello")

    assert caught.value.retry_after == 3.0
    assert caught.value.code == "system_busy"
    assert no_sleep == [3.0, 3.0, 3.0]
    assert "Wait 3 s" in str(caught.value)


def test_retry_after_longer_than_a_minute_is_not_waited(hosted, api, no_sleep):
    api.post(TTS_URL, status=429, headers={"Retry-After": "3600"},
             json=_detail("too_many_concurrent_requests", "Slow down."))

    with pytest.raises(RateLimited) as caught:
        hosted.tts.convert(VOICE, text="Hello")

    assert caught.value.retry_after == 3600.0
    assert no_sleep == []


def test_401_quota_exceeded_is_quota_exceeded_with_the_numbers(hosted, api, no_sleep):
    message = ("This request exceeds your quota of 10000. You have 23 credits remaining, "
               "while 145 credits are required for this request.")
    api.post(TTS_URL, status=401, json=_detail("quota_exceeded", message))

    with pytest.raises(QuotaExceeded) as caught:
        hosted.tts.convert(VOICE, text="x" * 145)

    err = caught.value
    assert (err.status_code, err.code, err.needed, err.left) == (401, "quota_exceeded", 145, 23)
    assert err.message == message
    assert "quota" in str(err) and "\n" not in str(err)
    assert no_sleep == []  # quota errors are not retried


def test_invalid_key_names_the_fix(hosted, api):
    api.get(f"{HOSTED}/v1/user", status=401,
            json=_detail("invalid_api_key", "Invalid API key"))

    with pytest.raises(AuthenticationError) as caught:
        hosted.user.get()

    assert caught.value.code == "invalid_api_key"
    assert "Set ELEVENLABS_API_KEY or pass api_key=" in str(caught.value)


def test_missing_key_says_to_set_one(api):
    api.get(f"{HOSTED}/v1/user", status=401, json=_detail("invalid_api_key", "No key"))

    with pytest.raises(AuthenticationError) as caught:
        Client().user.get()

    assert "No API key was sent" in str(caught.value)
    assert "xi-api-key" not in api.calls[-1].request.headers


def test_server_errors_are_retried_then_succeed(hosted, api, no_sleep):
    api.get(f"{HOSTED}/v1/models", status=503, body="upstream unavailable")
    api.get(f"{HOSTED}/v1/models", status=500, json=_detail("internal", "boom"))
    api.get(f"{HOSTED}/v1/models", json=[{"model_id": "eleven_v3", "name": "v3"}])

    models = hosted.models.list()

    assert [m.model_id for m in models] == ["eleven_v3"]
    assert len(no_sleep) == 2 and all(0 <= w <= 1.0 for w in no_sleep)


def test_server_error_that_persists_is_server_error(api, no_sleep):
    for _ in range(2):
        api.get(f"{HOSTED}/v1/models", status=502, body="<html>Bad gateway</html>")

    with pytest.raises(ServerError) as caught:
        Client(api_key=SECRET_KEY, max_retries=1).models.list()

    assert caught.value.status_code == 502
    assert "Bad gateway" in str(caught.value) and "Try again later" in str(caught.value)


def test_malformed_json_is_a_clear_server_error(hosted, api):
    api.get(f"{HOSTED}/v1/models", body="{not json", content_type="application/json")

    with pytest.raises(ServerError) as caught:
        hosted.models.list()

    assert caught.value.code == "invalid_json"
    assert "not JSON" in str(caught.value)


def test_malformed_error_body_still_gives_the_status(hosted, api):
    api.post(TTS_URL, status=400, body="plain text failure")

    with pytest.raises(InvalidRequest) as caught:
        hosted.tts.convert(VOICE, text="Hello")

    assert caught.value.status_code == 400
    assert "plain text failure" in str(caught.value)


def test_422_lists_become_readable_field_messages(hosted, api):
    api.post(TTS_URL, status=422, json={"detail": [
        {"loc": ["body", "text"], "msg": "Field required", "type": "missing"},
        {"loc": ["body", "voice_settings", "stability"], "msg": "must be <= 1", "type": "x"},
    ]})

    with pytest.raises(InvalidRequest) as caught:
        hosted.tts.convert(VOICE, text="Hello")

    assert caught.value.errors == ["text: Field required", "voice_settings.stability: must be <= 1"]
    assert "text: Field required" in str(caught.value)


def test_voice_not_found_400_is_not_found(hosted, api):
    api.get(f"{VOICES_URL}/nope", status=400,
            json=_detail("voice_not_found", "A voice with voice_id nope does not exist."))

    with pytest.raises(NotFound) as caught:
        hosted.voices.get("nope")

    assert caught.value.code == "voice_not_found"


class _DroppingBody(io.RawIOBase):
    """An HTTP body that delivers ``data`` and then loses the connection."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self._data:
            raise ConnectionResetError(104, "Connection reset by peer")
        n = min(len(buffer), len(self._data), 100)
        buffer[:n], self._data = self._data[:n], self._data[n:]
        return n


def test_connection_dropped_mid_stream_keeps_the_partial_audio(hosted, api):
    api.post(STREAM_URL, body=io.BufferedReader(_DroppingBody(b"A" * 300)),
             headers={"request-id": "r9"})

    stream = hosted.tts.stream(VOICE, text="Hello", chunk_size=100)
    received = []
    with pytest.raises(StreamInterrupted) as caught:
        for chunk in stream:
            received.append(chunk)

    assert stream.request_id == "r9"
    assert caught.value.partial == b"A" * 300 == b"".join(received)
    assert "300 bytes" in str(caught.value)


def test_stream_dropped_before_its_first_byte_is_not_asked_again(hosted, api):
    # The server answered 200: the take is made and billed, so asking again would pay twice.
    api.post(STREAM_URL, body=io.BufferedReader(_DroppingBody(b"")),
             headers={"request-id": "r7", "history-item-id": "h7"})
    api.post(STREAM_URL, body=b"ID3whole")

    with pytest.raises(StreamInterrupted) as caught:
        hosted.tts.stream(VOICE, text="Hello").read()

    assert [c.request.method for c in api.calls].count("POST") == 1
    assert (caught.value.request_id, caught.value.history_item_id) == ("r7", "h7")
    assert "client.history.get('h7')" in str(caught.value)


def test_connection_errors_are_retried_then_reported(api, no_sleep):
    refused = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] "
                                       "Connection refused")
    for _ in range(3):
        api.get(f"{HOSTED}/v1/models", body=requests.exceptions.ConnectionError(
            MaxRetryError(None, "/v1/models", refused)))

    with pytest.raises(ConnectionFailed) as caught:
        Client(api_key=SECRET_KEY, max_retries=2).models.list()

    assert len(no_sleep) == 2
    assert "Could not reach https://api.elevenlabs.io" in str(caught.value)


def test_unknown_fields_are_kept_and_missing_ones_are_none(hosted, api):
    api.get(f"{VOICES_URL}/v1", json={"voice_id": "v1", "name": "New", "brand_new_field": [1]})

    voice = hosted.voices.get("v1")

    assert voice.extra == {"brand_new_field": [1]}
    assert voice.description is None and voice.settings is None


def test_requests_send_the_key_and_only_the_given_body_fields(hosted, api):
    api.post(TTS_URL, body=b"ID3", match=[matchers.header_matcher({"xi-api-key": SECRET_KEY})])

    hosted.tts.convert("Rachel", text="Hi", voice_settings={"stability": 0.3, "style": None},
                       seed=7)

    sent = api.calls[-1].request
    assert json.loads(sent.body) == {"text": "Hi", "voice_settings": {"stability": 0.3},
                                     "seed": 7}
    assert "output_format=mp3_44100_128" in sent.url


def test_read_timeout_is_not_resent(hosted, api, no_sleep):
    api.post(TTS_URL, body=requests.exceptions.ReadTimeout("read timed out"))

    with pytest.raises(ConnectionFailed) as caught:
        hosted.tts.convert(VOICE, text="Hello")

    assert caught.value.code == "read_timeout" and "timeout=" in str(caught.value)
    assert no_sleep == [] and [c.request.method for c in api.calls].count("POST") == 1


def test_a_stream_is_an_iterator_and_read_returns_the_whole_take(hosted, api):
    api.post(STREAM_URL, body=b"ID3" + b"A" * 297)

    stream = hosted.tts.stream(VOICE, text="Hello", chunk_size=100)
    first = next(stream)
    rest = stream.read()

    assert first == b"ID3" + b"A" * 97
    assert rest == b"ID3" + b"A" * 297 == stream.received
    assert list(stream) == []


def test_a_key_that_may_not_list_voices_can_still_speak_by_id():
    with responses.RequestsMock() as api:
        api.get(VOICES_URL, status=401, json=_detail("missing_permissions",
                                                    "The key lacks voices_read."))
        api.post(TTS_URL, body=b"ID3audio")

        take = Client(api_key=SECRET_KEY).tts.convert(VOICE, text="Hello")

    assert take.audio == b"ID3audio"



def _sent_without_key(request) -> tuple[bool, str]:
    # Checked when the request is sent: the client redacts its recorded copies afterwards.
    return "xi-api-key" not in request.headers, "the API key was sent"


def test_a_redirect_to_another_host_does_not_carry_the_key(hosted, api):
    elsewhere = "https://storage.example.org/user.json"
    api.get(f"{HOSTED}/v1/user", status=302, headers={"Location": elsewhere},
            match=[matchers.header_matcher({"xi-api-key": SECRET_KEY})])
    api.get(elsewhere, json={"user_id": "u1", "subscription": {}}, match=[_sent_without_key])

    assert hosted.user.get().user_id == "u1"


def test_a_redirect_on_the_same_host_keeps_the_key(hosted, api):
    api.get(f"{HOSTED}/v1/user", status=307, headers={"Location": f"{HOSTED}/v1/user/"})
    api.get(f"{HOSTED}/v1/user/", json={"user_id": "u1", "subscription": {}},
            match=[matchers.header_matcher({"xi-api-key": SECRET_KEY})])

    assert hosted.user.get().user_id == "u1"
