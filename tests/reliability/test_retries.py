"""A take is billed once: a TTS request is resent only when the server provably did not act.

Against the real local server, a loopback proxy lets each request through whole and cuts the
answer after the server has made the take: the client must not ask again, the history must hold
one item for the text, and the error must name it. The hosted API's statuses (500, 429, 503 with
and without ``Retry-After``) and urllib3's connection failures are replayed with ``responses``.
"""

from __future__ import annotations

import contextlib
import csv
import socket
import threading
from http.client import RemoteDisconnected

import pytest
import requests
import responses
from responses import matchers
from urllib3.exceptions import MaxRetryError, NameResolutionError, ProtocolError

from xiwidgets.client import (
    Client,
    ConnectionFailed,
    RateLimited,
    ServerError,
    StreamInterrupted,
)

from .harness import host_port, wait_until

HOSTED = "https://api.elevenlabs.io"
SECRET_KEY = "sk_live_RETRYSECRET_4d2c8b1a9e"
VOICE = "21m00Tcm4TlvDq8ikWAM"
TTS_URL = f"{HOSTED}/v1/text-to-speech/{VOICE}"
VOICE_LIST = {"voices": [{"voice_id": VOICE, "name": "Rachel", "category": "premade"}]}
LOST = "lost"  # the proxy forwards nothing of the answer
UNSENT = "unsent"  # the proxy reads the request and drops it: the server never sees it
WHOLE = "whole"  # the proxy forwards the whole answer


def _read_until_head(sock: socket.socket, data: bytes) -> tuple[bytes, bytes] | None:
    """``(head including the blank line, what followed)`` read from ``sock``; None at EOF."""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def _read_exactly(sock: socket.socket, data: bytes, size: int) -> tuple[bytes, bytes]:
    while len(data) < size:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection mid-message")
        data += chunk
    return data[:size], data[size:]


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    if b"chunked" in head.lower():
        raise AssertionError("this proxy forwards whole answers only with a Content-Length")
    return 0


class AnswerCuttingProxy:
    """A loopback HTTP proxy that forwards every request whole and cuts the answers to TTS POSTs.

    Parameters
    ----------
    target_base_url : str
        The real server behind the proxy.
    tts_answer : "unsent", "lost", int or "whole"
        What of a text-to-speech exchange gets through: not even the request (the connection
        breaks after the client sent it, before the server saw it), nothing of the answer (the
        server made the take, the network lost its answer), the headers and that many bytes of
        the body, or all of it.
        The connection is closed after a cut answer.
    close_after_answer : bool
        Close the connection after each whole answer, as a server closes an idle keep-alive
        connection.
    """

    def __init__(self, target_base_url: str, tts_answer: str | int,
                 close_after_answer: bool = False) -> None:
        self.target = host_port(target_base_url)
        self.tts_answer = tts_answer
        self.close_after_answer = close_after_answer
        self.paths: list[str] = []
        self.connections = 0
        self.closed = 0
        self._lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def tts_posts(self) -> int:
        """Text-to-speech requests that reached the server."""
        return sum("/v1/text-to-speech/" in path for path in self.paths)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.target)
        try:
            self._exchange_until_cut(client, upstream)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()
            upstream.close()
            with self._lock:
                self.closed += 1

    def _exchange_until_cut(self, client: socket.socket, upstream: socket.socket) -> None:
        pending = b""
        while True:
            request = _read_until_head(client, pending)
            if request is None:
                return
            head, rest = request
            body, pending = _read_exactly(client, rest, _content_length(head))
            path = head.split(b" ", 2)[1].decode()
            if "/v1/text-to-speech/" in path and self.tts_answer == UNSENT:
                return
            with self._lock:
                self.paths.append(path)
            upstream.sendall(head + body)
            answer = _read_until_head(upstream, b"")
            if answer is None:
                return
            answer_head, answer_rest = answer
            mode = self.tts_answer if "/v1/text-to-speech/" in path else WHOLE
            if mode == LOST:
                return
            if mode != WHOLE:
                part, _ = _read_exactly(upstream, answer_rest, int(mode))
                client.sendall(answer_head + part)
                return
            whole, _ = _read_exactly(upstream, answer_rest, _content_length(answer_head))
            client.sendall(answer_head + whole)
            if self.close_after_answer:
                return

    def close(self) -> None:
        """Stop accepting connections."""
        self.listener.close()


@pytest.fixture
def proxy_factory(reliability_server):
    proxies: list[AnswerCuttingProxy] = []

    def start(tts_answer: str | int, **options) -> AnswerCuttingProxy:
        proxy = AnswerCuttingProxy(reliability_server.base_url, tts_answer, **options)
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.close()


@pytest.fixture
def direct(reliability_server):
    """A client of the server itself, to read its history."""
    with Client(base_url=reliability_server.base_url) as client:
        yield client


@pytest.fixture
def voice(direct):
    """The server's English voice (a Voice, so using it needs no voice listing)."""
    return direct.voices.find("Joe")


@pytest.fixture
def voice_id(voice) -> str:
    return voice.voice_id


def _items_for(client: Client, text: str) -> list:
    return [item for item in client.history.iter_all(page_size=1000) if item.text == text]


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the retry waits instead of sleeping through them."""
    waits: list[float] = []
    monkeypatch.setattr("xiwidgets.client.transport._sleep", waits.append)
    # The history is looked at again after a pause when a lost take is not there yet.
    monkeypatch.setattr("xiwidgets.client.recovery._sleep", lambda seconds: None)
    return waits


# --- The real server, its answer cut after it made the take -------------------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("method", ["convert", "convert_with_timestamps"])
def test_a_take_whose_answer_broke_mid_body_is_returned_from_the_history_not_made_again(
        method, proxy_factory, direct, voice_id):
    text = f"Billed once, although its answer broke off ({method})."
    proxy = proxy_factory(tts_answer=100)
    client = Client(base_url=proxy.base_url, max_retries=3)

    take = getattr(client.tts, method)(voice_id, text=text)

    [item] = _items_for(direct, text)
    assert proxy.tts_posts() == 1
    assert take.history_item_id == item.history_item_id and take.request_id == item.request_id
    assert take.audio == direct.history.audio(item.history_item_id)
    assert take.character_cost == item.character_cost and take.text == text
    assert take.duration > 0.5
    if method == "convert_with_timestamps":
        assert take.alignment is not None and take.alignment.text == text
        assert take.words[0].text == "Billed"


@pytest.mark.timeout(60)
def test_a_take_whose_whole_answer_was_lost_is_found_by_its_text_and_returned(
        proxy_factory, direct, voice_id):
    text = "Billed once, although not a byte of its answer arrived."
    proxy = proxy_factory(tts_answer=LOST)
    client = Client(base_url=proxy.base_url, max_retries=3)

    take = client.tts.convert(voice_id, text=text)

    [item] = _items_for(direct, text)
    assert proxy.tts_posts() == 1
    assert take.history_item_id == item.history_item_id
    assert take.audio == direct.history.audio(item.history_item_id)


@pytest.mark.timeout(60)
def test_a_lost_take_is_not_confused_with_another_take_of_the_same_text(
        proxy_factory, direct, voice_id, monkeypatch):
    monkeypatch.setattr("xiwidgets.client.recovery._sleep", lambda seconds: None)
    text = "The same words, asked for twice at once."
    other = direct.tts.convert(voice_id, text=text)  # someone else's take of the same text
    proxy = proxy_factory(tts_answer=LOST)
    client = Client(base_url=proxy.base_url, max_retries=3)

    with pytest.raises(ConnectionFailed) as caught:
        client.tts.convert(voice_id, text=text)

    assert len(_items_for(direct, text)) == 2 and proxy.tts_posts() == 1
    assert "could not be found in the history" in str(caught.value)
    assert other.history_item_id not in str(caught.value)


@pytest.mark.timeout(60)
def test_a_take_this_client_already_received_is_never_returned_for_a_lost_one(
        proxy_factory, voice_id):
    text = "Asked for once, then again with its answer lost."
    client = Client(base_url=proxy_factory(tts_answer=WHOLE).base_url)
    first = client.tts.convert(voice_id, text=text)
    lossy = proxy_factory(tts_answer=LOST)
    client._transport.base_url = lossy.base_url  # same client, same ledger, a lossy network

    second = client.tts.convert(voice_id, text=text)

    assert second.history_item_id != first.history_item_id and lossy.tts_posts() == 1


@pytest.mark.timeout(60)
def test_a_lost_request_the_server_never_saw_says_it_is_not_in_the_history(
        proxy_factory, direct, voice_id, monkeypatch):
    monkeypatch.setattr("xiwidgets.client.recovery._sleep", lambda seconds: None)
    text = "This request was lost on its way and never made."
    proxy = proxy_factory(tts_answer=UNSENT)
    client = Client(base_url=proxy.base_url, max_retries=3)

    with pytest.raises(ConnectionFailed) as caught:
        client.tts.convert(voice_id, text=text)

    assert _items_for(direct, text) == [] and proxy.tts_posts() == 0
    err = caught.value
    assert err.code == "connection_lost" and err.history_item_id is None
    assert "may have been made and billed" in str(err)
    assert "could not be found in the history" in str(err)
    assert f"client.history.list(voice_id={voice_id!r})" in str(err)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("method", ["stream", "stream_with_timestamps"])
def test_a_stream_cut_after_the_server_answered_is_not_asked_again(
        method, proxy_factory, voice_id):
    text = f"A stream cut before its first byte is still a take ({method})."
    proxy = proxy_factory(tts_answer=0)
    client = Client(base_url=proxy.base_url, max_retries=3)

    stream = getattr(client.tts, method)(voice_id, text=text)
    with pytest.raises(StreamInterrupted) as caught:
        stream.read()

    err = caught.value
    assert proxy.tts_posts() == 1
    assert stream.history_item_id and err.history_item_id == stream.history_item_id
    assert err.request_id == stream.request_id
    assert f"client.history.get('{stream.history_item_id}')" in str(err)
    assert err.partial == b""


@pytest.mark.timeout(60)
def test_synthesize_many_recovers_a_cut_take_from_the_history_not_made_twice(
        proxy_factory, direct, voice_id, tmp_path):
    texts = ["The first line of the batch.", "The second line of the batch."]
    proxy = proxy_factory(tts_answer=100)
    client = Client(base_url=proxy.base_url, max_retries=3)

    result = client.synthesize_many(texts, voice=voice_id, out_dir=tmp_path, max_concurrency=1,
                                    progress=False)

    assert proxy.tts_posts() == 2
    with result.manifest_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for text, item, row in zip(texts, result.items, rows, strict=True):
        [made] = _items_for(direct, text)
        assert item.status == row["status"] == "ok" and item.file is not None
        assert item.history_item_id == row["history_item_id"] == made.history_item_id
        assert (tmp_path / item.file).read_bytes() == direct.history.audio(made.history_item_id)


@pytest.mark.timeout(60)
def test_a_pooled_connection_the_server_closed_while_idle_is_replaced_not_an_error(
        proxy_factory, direct, voice):
    # The one case a POST is written into a closed connection: urllib3 sees the close and
    # opens a new connection, so not resending after "Connection aborted." costs nothing here.
    text = "Sent on a fresh connection after the idle one was closed."
    proxy = proxy_factory(tts_answer=WHOLE, close_after_answer=True)
    client = Client(base_url=proxy.base_url, max_retries=0)
    client.models.list()
    assert wait_until(lambda: proxy.closed == 1, timeout=10)

    take = client.tts.convert(voice, text=text)

    [item] = _items_for(direct, text)
    assert take.history_item_id == item.history_item_id
    assert proxy.connections == 2 and proxy.tts_posts() == 1


@pytest.mark.timeout(60)
def test_a_take_to_a_port_nobody_listens_on_is_retried(no_sleep, voice):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        closed_port = listener.getsockname()[1]
    client = Client(base_url=f"http://127.0.0.1:{closed_port}", max_retries=2)

    with pytest.raises(ConnectionFailed) as caught:
        client.tts.convert(voice, text="Nobody hears this.")

    assert len(no_sleep) == 2
    assert caught.value.code == "connection_failed"
    assert "Could not reach" in str(caught.value)


# --- Hosted-API answers, replayed ---------------------------------------------------------------

def _detail(status: str, message: str) -> dict:
    return {"detail": {"status": status, "message": message}}


@pytest.fixture
def hosted() -> Client:
    return Client(api_key=SECRET_KEY, base_url=HOSTED, max_retries=3)


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{HOSTED}/v1/voices", json=VOICE_LIST)
        yield mock


def _posts(api: responses.RequestsMock) -> int:
    return [call.request.method for call in api.calls].count("POST")


def _no_key_in(err: BaseException) -> None:
    assert SECRET_KEY not in str(err) and SECRET_KEY not in repr(err)
    assert SECRET_KEY not in (err.message or "")


@pytest.mark.parametrize(("status", "headers"), [
    (500, {}), (502, {}), (504, {}), (503, {}),
])
@pytest.mark.parametrize("path", ["", "/stream", "/with-timestamps", "/stream/with-timestamps"])
def test_a_5xx_on_a_take_is_sent_once_and_names_the_take(status, headers, path, hosted, api,
                                                          no_sleep):
    api.post(TTS_URL + path, status=status, json=_detail("internal_error", "Synthesis failed."),
             headers={"request-id": "req-5xx", "history-item-id": "hist-5xx", **headers})
    api.post(TTS_URL + path, body=b"ID3second take")
    # The history does not have it: the failure did not make the take.
    api.get(f"{HOSTED}/v1/history/hist-5xx", status=404,
            json=_detail("history_item_not_found", "No such item."))
    method = {"": "convert", "/stream": "stream", "/with-timestamps": "convert_with_timestamps",
              "/stream/with-timestamps": "stream_with_timestamps"}[path]

    with pytest.raises(ServerError) as caught:
        getattr(hosted.tts, method)(VOICE, text="Hello")

    err = caught.value
    assert _posts(api) == 1 and no_sleep == []
    if path in ("", "/with-timestamps"):
        assert "could not be found in the history" in str(err)
    assert (err.status_code, err.request_id, err.history_item_id) == (status, "req-5xx",
                                                                      "hist-5xx")
    assert "client.history.get('hist-5xx')" in str(err) and "Try again later" not in str(err)
    _no_key_in(err)


def test_a_5xx_without_ids_says_to_look_for_the_text_in_the_history(hosted, api, no_sleep):
    api.post(TTS_URL, status=500, body="upstream failure")

    with pytest.raises(ServerError) as caught:
        hosted.tts.convert(VOICE, text="Hello")

    assert _posts(api) == 1
    assert caught.value.history_item_id is None
    assert "newest items of client.history.list()" in str(caught.value)


def test_a_request_id_only_in_the_error_body_is_kept(hosted, api, no_sleep):
    api.post(TTS_URL, status=500, json={"detail": {"status": "internal_error",
                                                   "message": "Boom.", "request_id": "req-b"}})

    with pytest.raises(ServerError) as caught:
        hosted.tts.convert(VOICE, text="Hello")

    assert caught.value.request_id == "req-b" and "'req-b'" in str(caught.value)


def test_a_429_on_a_take_is_retried_it_was_refused_before_any_work(hosted, api, no_sleep):
    api.post(TTS_URL, status=429, headers={"Retry-After": "2"},
             json=_detail("too_many_concurrent_requests", "Too many concurrent requests."))
    api.post(TTS_URL, status=429, json=_detail("system_busy", "The system is busy."))
    api.post(TTS_URL, body=b"ID3audio", headers={"history-item-id": "h1"})

    take = hosted.tts.convert(VOICE, text="Hello")

    assert take.history_item_id == "h1" and _posts(api) == 3
    assert no_sleep[0] == 2.0 and len(no_sleep) == 2


def test_a_429_that_persists_is_rate_limited_without_a_billing_warning(hosted, api, no_sleep):
    api.post(TTS_URL, status=429, headers={"Retry-After": "1"},
             json=_detail("too_many_concurrent_requests", "Too many concurrent requests."))

    with pytest.raises(RateLimited) as caught:
        hosted.tts.convert(VOICE, text="Hello")

    assert _posts(api) == 4 and "billed" not in str(caught.value)


def test_a_503_with_retry_after_on_a_take_is_retried(hosted, api, no_sleep):
    api.post(TTS_URL, status=503, headers={"Retry-After": "1"}, body="overloaded")
    api.post(TTS_URL, body=b"ID3audio")

    assert hosted.tts.convert(VOICE, text="Hello").audio == b"ID3audio"
    assert _posts(api) == 2 and no_sleep == [1.0]


def test_reads_are_still_retried_on_5xx(hosted, api, no_sleep, tmp_path):
    api.post(f"{HOSTED}/v1/history/download", status=500, body="boom")
    api.post(f"{HOSTED}/v1/history/download", body=b"ID3stored", content_type="audio/mpeg")
    api.get(f"{HOSTED}/v1/history/h1", status=502, body="bad gateway")
    api.get(f"{HOSTED}/v1/history/h1", json={"history_item_id": "h1", "text": "Hello"})

    assert hosted.history.get("h1").text == "Hello"
    assert hosted.history.download("h1", tmp_path / "h1.mp3").read_bytes() == b"ID3stored"
    assert len(api.calls) == 4 and len(no_sleep) == 2


def test_storing_settings_or_a_name_is_resent_adding_a_voice_or_samples_is_not(
        hosted, api, no_sleep):
    for path in (f"{VOICE}/settings/edit", f"{VOICE}/edit"):
        api.post(f"{HOSTED}/v1/voices/{path}", status=500, body="boom")
        api.post(f"{HOSTED}/v1/voices/{path}", json={"status": "ok"})
    api.post(f"{HOSTED}/v1/voices/add", status=500, body="boom")

    hosted.voices.edit_settings(VOICE, {"stability": 0.4})
    hosted.voices.edit(VOICE, name="Renamed")
    assert _posts(api) == 4 and len(no_sleep) == 2
    api.calls.reset()
    api.replace(responses.POST, f"{HOSTED}/v1/voices/{VOICE}/edit", status=500, body="boom")
    with pytest.raises(ServerError) as adding:
        hosted.voices.add("Narrator", [b"RIFFsample"])
    with pytest.raises(ServerError) as adding_samples:
        hosted.voices.edit(VOICE, name="Renamed", files=[b"RIFFsample"])

    assert [call.request.url.rsplit("/", 1)[-1] for call in api.calls
            if call.request.method == "POST"] == ["add", "edit"]
    assert "'Narrator'" in str(adding.value) and "client.voices.list()" in str(adding.value)
    assert f"client.voices.get('{VOICE}')" in str(adding_samples.value)


def _refused_before_sending(url: str) -> requests.exceptions.ConnectionError:
    reason = NameResolutionError("api.elevenlabs.io", None,
                                 socket.gaierror(-2, "Name or service not known"))
    return requests.exceptions.ConnectionError(MaxRetryError(None, url, reason))


@pytest.mark.parametrize("failure", [
    pytest.param(lambda: _refused_before_sending(TTS_URL), id="dns-failure"),
    pytest.param(lambda: requests.exceptions.ConnectTimeout("connect timed out"),
                 id="connect-timeout"),
])
def test_a_take_that_could_not_be_sent_is_retried(failure, hosted, api, no_sleep):
    api.post(TTS_URL, body=failure())
    api.post(TTS_URL, body=b"ID3audio")

    assert hosted.tts.convert(VOICE, text="Hello").audio == b"ID3audio"
    assert _posts(api) == 2 and len(no_sleep) == 1


@pytest.mark.parametrize("failure", [
    pytest.param(lambda: requests.exceptions.ConnectionError(ProtocolError(
        "Connection aborted.", RemoteDisconnected("Remote end closed connection"))),
        id="connection-aborted"),
    pytest.param(lambda: requests.exceptions.ConnectionError(ProtocolError(
        "Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))),
        id="connection-reset"),
    pytest.param(lambda: requests.exceptions.ReadTimeout("read timed out"), id="read-timeout"),
])
def test_a_take_that_may_have_reached_the_server_is_not_resent(failure, hosted, api, no_sleep):
    api.post(TTS_URL, body=failure())
    api.post(TTS_URL, body=b"ID3second take")
    api.get(f"{HOSTED}/v1/history", json={"history": [], "has_more": False})

    with pytest.raises(ConnectionFailed) as caught:
        hosted.tts.convert(VOICE, text="Hello")

    assert _posts(api) == 1 and no_sleep == []
    assert caught.value.code in ("connection_lost", "read_timeout")
    assert "may have been made and billed" in str(caught.value)
    assert "could not be found in the history" in str(caught.value)
    _no_key_in(caught.value)


def test_synthesize_many_keeps_the_ids_of_a_take_that_failed_on_the_server(hosted, api,
                                                                          no_sleep, tmp_path):
    api.post(TTS_URL, body=b"ID3first", headers={"history-item-id": "h-first"},
             match=[matchers.json_params_matcher({"text": "First."}, strict_match=False)])
    api.post(TTS_URL, status=500, json=_detail("internal_error", "Synthesis failed."),
             headers={"request-id": "req-second", "history-item-id": "h-second"},
             match=[matchers.json_params_matcher({"text": "Second."}, strict_match=False)])

    result = hosted.synthesize_many(["First.", "Second."], voice=VOICE, out_dir=tmp_path,
                                    progress=False)

    assert _posts(api) == 2
    assert [i.status for i in result.items] == ["ok", "failed"]
    failed = result.items[1]
    assert (failed.request_id, failed.history_item_id) == ("req-second", "h-second")
    assert "client.history.get('h-second')" in failed.error
    with result.manifest_path.open(newline="", encoding="utf-8") as handle:
        assert list(csv.DictReader(handle))[1]["history_item_id"] == "h-second"
