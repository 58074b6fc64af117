"""A stream cut short raises ``StreamInterrupted`` with the audio received so far, and never hangs.

Three ways a stream fails: the server process dies, the network drops the connection, the network
goes silent. In each, the client raises ``StreamInterrupted`` carrying exactly the bytes it had
yielded, and the Player widget shows the failure on its error card.
"""

from __future__ import annotations

import pytest

from .harness import DroppingProxy, ServerProcess, english_voice_id


def _voice(voice_id: str):
    # A Voice, not its id: the client then needs no voice list, which would cross the proxy's
    # byte budget before the stream does.
    from xiwidgets.client import Voice

    return Voice(voice_id=voice_id)

LONG_TEXT = " ".join(
    f"Sentence number {i} of a long paragraph, read aloud so the stream lasts a while."
    for i in range(6))
SEED = 1234


def _client(base_url: str, **kwargs):
    """A client that does not retry, so a fault reaches the caller at once."""
    from xiwidgets.client import Client

    return Client(base_url=base_url, max_retries=0, **kwargs)


def _drain(stream) -> tuple[list[bytes], BaseException | None]:
    chunks: list[bytes] = []
    try:
        for chunk in stream:
            chunks.append(chunk)
    except Exception as error:
        return chunks, error
    return chunks, None


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_server_killed_mid_stream_raises_with_partial_audio(tmp_path):
    from xiwidgets.client import StreamInterrupted

    with ServerProcess(tmp_path / "data") as server:
        client = _client(server.base_url, timeout=20)
        stream = client.tts.stream(english_voice_id(server.base_url), text=LONG_TEXT)
        iterator = iter(stream)
        first = next(iterator)
        server.kill()
        rest, error = _drain(iterator)

    assert isinstance(error, StreamInterrupted), f"got {error!r}"
    assert error.partial == first + b"".join(rest)
    assert len(error.partial) > 0
    assert "partial" in str(error)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_connection_dropped_mid_stream_raises_with_a_prefix_of_the_take(target):
    from xiwidgets.client import StreamInterrupted

    voice = _voice(target.voice_id)
    whole = _client(target.base_url).tts.stream(voice, text=LONG_TEXT, seed=SEED).read()
    proxy = DroppingProxy(target.base_url, cut_after_bytes=len(whole) // 3)
    try:
        stream = _client(proxy.base_url, timeout=20).tts.stream(_voice(target.voice_id),
                                                                text=LONG_TEXT, seed=SEED)
        chunks, error = _drain(stream)
    finally:
        proxy.close()

    assert isinstance(error, StreamInterrupted), f"got {error!r}"
    assert error.partial == b"".join(chunks)
    assert 0 < len(error.partial) < len(whole)
    assert whole.startswith(error.partial), "the partial audio is not what the server sent"


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_silent_connection_mid_stream_times_out_with_partial_audio(target):
    from xiwidgets.client import StreamInterrupted

    proxy = DroppingProxy(target.base_url, cut_after_bytes=40_000, stall=True)
    try:
        stream = _client(proxy.base_url, timeout=3).tts.stream(_voice(target.voice_id),
                                                               text=LONG_TEXT)
        chunks, error = _drain(stream)
    finally:
        proxy.close()

    assert isinstance(error, StreamInterrupted), f"got {error!r}"
    assert error.partial == b"".join(chunks) and len(error.partial) > 0


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_player_widget_shows_an_interrupted_stream(target):
    from xiwidgets.client import StreamInterrupted
    from xiwidgets.widgets.player import Player

    proxy = DroppingProxy(target.base_url, cut_after_bytes=20_000)
    try:
        client = _client(proxy.base_url, timeout=20)
        player = Player(client=client, policy="none")
        result = player.play_stream(client.tts.stream(_voice(target.voice_id), text=LONG_TEXT))
    finally:
        proxy.close()

    assert result is None
    assert player.status == "error"
    assert isinstance(player.last_error, StreamInterrupted)
    assert player.bytes_received == len(player.last_error.partial)
    assert player.error_card.layout.display != "none"
    assert "cut off" in player.error_card.value
