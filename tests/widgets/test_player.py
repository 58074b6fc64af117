"""Player: chunks reach the browser as binary messages, and the notebook keeps one take per cell."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from xiwidgets.client.errors import StreamInterrupted
from xiwidgets.widgets._audio import mp3_duration, wav_duration
from xiwidgets.widgets.player import Player

pytestmark = pytest.mark.timeout(120)

TEXT = "Streaming starts with the first chunk. The rest follows while it is still generated."


@pytest.fixture(scope="module")
def voice_id(server: Any) -> str:
    from xiwidgets.client import Client

    return Client(base_url=server.base_url).voices.list()[0].voice_id


def sent_chunks(frontend: Any, player: Player) -> list[bytes]:
    return [buffers[0] for content, buffers in frontend.custom(player)
            if content["type"] == "chunk"]


def embedded_audio(player: Player) -> list[bytes]:
    """The audio of each take saved in the player's output (what the .ipynb will hold)."""
    found = []
    for output in player.take_output.outputs:
        markup = output["data"]["text/html"]
        found += [base64.b64decode(data)
                  for data in re.findall(r"data:audio/mpeg;base64,([A-Za-z0-9+/=]+)", markup)]
    return found


def test_stream_goes_to_the_browser_chunk_by_chunk_as_binary(
    frontend: Any, client: Any, voice_id: str
) -> None:
    player = Player(client=client)
    stream = client.tts.stream(voice_id, text=TEXT)

    take = player.play_stream(stream, text=TEXT)

    kinds = [content["type"] for content, _buffers in frontend.custom(player)]
    chunks = sent_chunks(frontend, player)
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert kinds.count("chunk") == len(chunks) == player.chunks_received >= 2
    assert b"".join(chunks) == take == stream.received == player.last_take
    assert player.bytes_received == len(take)
    assert player.status == "done"
    # The audio travels only as buffers: no state update or message body carries it.
    wire = json.dumps([m.data for m in frontend.sent(player)])
    assert base64.b64encode(chunks[0][:60]).decode() not in wire
    assert all(len(json.dumps(update)) < 500 for update in frontend.updates(player))


def test_each_chunk_is_forwarded_before_the_next_one_arrives(
    frontend: Any, client: Any, voice_id: str
) -> None:
    player = Player(client=client, policy="none")
    forwarded_before: list[int] = []

    def watched(stream: Any) -> Iterator[bytes]:
        for chunk in stream:
            forwarded_before.append(len(sent_chunks(frontend, player)))
            yield chunk

    player.play_stream(watched(client.tts.stream(voice_id, text=TEXT)))

    assert forwarded_before == list(range(len(forwarded_before)))
    assert len(forwarded_before) >= 2


def test_embed_policy_saves_one_compressed_take_and_replaces_it(
    frontend: Any, client: Any, voice_id: str
) -> None:
    player = Player(client=client, policy="embed")

    first = player.play_stream(client.tts.stream(voice_id, text="First take."))
    assert embedded_audio(player) == [first]
    second = player.play_stream(client.tts.stream(voice_id, text="Second take."))

    assert len(player.take_output.outputs) == 1
    assert embedded_audio(player) == [second]
    assert second[:3] == b"ID3" or second[0] == 0xFF


def test_one_embedded_take_per_cell_across_players(frontend: Any, client: Any,
                                                   voice_id: str) -> None:
    in_cell = [Player(client=client), Player(client=client)]
    elsewhere = Player(client=client)
    for player in in_cell:
        player.cell_key = "cell-1"
    elsewhere.cell_key = "cell-2"

    kept = elsewhere.play_bytes(client.tts.convert(voice_id, text="Elsewhere.").audio)
    in_cell[0].play_bytes(client.tts.convert(voice_id, text="One.").audio)
    latest = in_cell[1].play_bytes(client.tts.convert(voice_id, text="Two.").audio)

    assert in_cell[0].take_output.outputs == ()
    assert embedded_audio(in_cell[1]) == [latest]
    assert embedded_audio(elsewhere) == [kept]


def test_link_policy_writes_the_take_beside_the_notebook(
    frontend: Any, client: Any, voice_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    player = Player(client=client, policy="link")

    take = player.play_stream(client.tts.stream(voice_id, text="Linked take."))

    files = list((tmp_path / "xiwidgets-takes").glob("take-*.mp3"))
    assert [f.read_bytes() for f in files] == [take]
    markup = player.take_output.outputs[0]["data"]["text/html"]
    assert f'src="xiwidgets-takes/{files[0].name}"' in markup
    assert "base64" not in markup


def test_none_policy_keeps_the_take_in_python_only(frontend: Any, client: Any,
                                                   voice_id: str) -> None:
    player = Player(client=client, policy="none")

    take = player.play_stream(client.tts.stream(voice_id, text="Not saved."))

    assert player.take_output.outputs == ()
    assert player.last_take == take and len(take) > 1000


def test_stop_ends_the_take_in_the_browser_and_in_python(frontend: Any, client: Any,
                                                         voice_id: str) -> None:
    player = Player(client=client)
    first_chunk_sent = threading.Event()
    release = threading.Event()

    def slow(stream: Any) -> Iterator[bytes]:
        for chunk in stream:
            yield chunk
            first_chunk_sent.set()
            release.wait(5)

    worker = threading.Thread(target=player.play_stream,
                              args=(slow(client.tts.stream(voice_id, text=TEXT)),))
    worker.start()
    assert first_chunk_sent.wait(30)
    player.stop()
    release.set()
    worker.join(30)

    kinds = [content["type"] for content, _buffers in frontend.custom(player)]
    assert "stop" in kinds and "end" not in kinds
    assert player.status == "stopped"
    assert player.chunks_received == 1
    assert player.take_output.outputs == ()


def test_a_failed_stream_shows_the_card_and_keeps_the_partial_take(
    frontend: Any, client: Any, voice_id: str
) -> None:
    player = Player(client=None)

    def dropped() -> Iterator[bytes]:
        yield b"\xff\xfb" + bytes(400)
        raise StreamInterrupted("The audio stream was cut off after 402 bytes; try again.",
                                partial=b"\xff\xfb" + bytes(400))

    assert player.play_stream(dropped()) is None

    assert player.status == "error"
    assert isinstance(player.last_error, StreamInterrupted)
    assert player.error_card.text == "The audio stream was cut off after 402 bytes; try again."
    assert player.last_take == b"\xff\xfb" + bytes(400)
    assert frontend.custom(player)[-1][0]["type"] == "error"
    assert frontend.is_shown(player.view, player.error_card)

    good = client.tts.convert(voice_id, text="Once more.").audio
    assert player.play_bytes(good) == good  # the next take that plays clears the card
    assert player.last_error is None and player.status == "done"
    assert not frontend.is_shown(player.view, player.error_card)


def test_playback_state_reported_by_the_browser(frontend: Any) -> None:
    player = Player(client=None)

    frontend.set_state(player, playing=True, position=1.25)

    assert (player.playing, player.position) == (True, 1.25)


def test_a_new_take_starts_at_position_zero_without_waiting_for_the_browser(
    frontend: Any, client: Any, voice_id: str
) -> None:
    player = Player(client=client)
    # The browser reported the end of the previous take.
    frontend.set_state(player, playing=False, position=4.5)
    seen_at_start = []
    player.observe(lambda change: seen_at_start.append(player.position)
                   if change["new"] == "streaming" else None, names="status")

    player.play_stream(client.tts.stream(voice_id, text=TEXT), text=TEXT)

    # The browser sends no position while a new source has no data: the kernel resets it,
    # in the same state message that starts the take.
    assert seen_at_start == [0.0]
    start_update = next(update for update in frontend.updates(player)
                        if update.get("status") == "streaming")
    assert start_update["position"] == 0.0


def test_duration_of_the_mp3_take_matches_the_same_take_as_wav(client: Any,
                                                               voice_id: str) -> None:
    text = "Measure me twice."
    mp3 = client.tts.convert(voice_id, text=text, seed=7).audio
    wav = client.tts.convert(voice_id, text=text, seed=7, output_format="wav_44100").audio

    assert wav_duration(wav) > 0.5
    # MP3 adds encoder delay and padding: at most a few frames of 26 ms.
    assert mp3_duration(mp3) == pytest.approx(wav_duration(wav), abs=0.15)


def test_takes_finished_by_a_cells_code_are_one_output_of_that_cell(
    server: Any, tmp_path: Path
) -> None:
    """Run a real kernel: two takes spoken by one cell leave one saved audio output in it."""
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    cells = [
        "import xiwidgets as xi\n"
        f"studio = xi.Studio(client=xi.Client(base_url={server.base_url!r}))",
        "studio.speak('First take of this cell.', wait=True)\n"
        "studio.speak('Second take of this cell.', wait=True);",
        "import hashlib\nprint(hashlib.sha256(studio.last_take.audio).hexdigest())",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    nbformat.write(notebook, tmp_path / "saved.ipynb")
    saved = nbformat.read(tmp_path / "saved.ipynb", as_version=4)

    speaking_cell = saved.cells[1]
    audio_outputs = [o for o in speaking_cell.outputs
                     if "data:audio/mpeg;base64," in o.get("data", {}).get("text/html", "")]
    assert len(audio_outputs) == 1, speaking_cell.outputs
    (data,) = re.findall(r"base64,([A-Za-z0-9+/=]+)", audio_outputs[0]["data"]["text/html"])
    printed_hash = saved.cells[2].outputs[0]["text"].strip()
    assert hashlib.sha256(base64.b64decode(data)).hexdigest() == printed_hash
