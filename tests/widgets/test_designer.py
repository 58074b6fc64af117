"""VoiceDesigner against the real local server, driven like a browser would drive it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.reliability.harness import DroppingProxy
from tests.server.helpers import decode_audio, without_kokoro
from xiwidgets.widgets.designer import VoiceDesigner
from xiwidgets.widgets.voices import VoicePicker

pytestmark = pytest.mark.timeout(300)

DEEP = "An old man with a deep, slow voice"
BRIGHT = "A bright, quick young woman's voice"


class Gate:
    """Holds the ``nth`` response whose path ``matches`` until released: the thread that asked
    waits there, as it would for a slow server. It gives up after ``timeout`` seconds (a design
    made in the clicking thread would otherwise wait for a release that comes after it)."""

    def __init__(self, matches: Callable[[str], bool], nth: int = 1,
                 timeout: float = 15.0) -> None:
        self.matches, self.nth, self.timeout = matches, nth, timeout
        self.seen = 0
        self.reached = threading.Event()
        self.released = threading.Event()
        self.timed_out = False

    def __call__(self, path: str) -> None:
        if not self.matches(path):
            return
        self.seen += 1
        if self.seen == self.nth:
            self.reached.set()
            self.timed_out = not self.released.wait(self.timeout)


def recording_client(base_url: str, events: list[tuple[Any, ...]],
                     gate: Gate | None = None, **options: Any) -> Any:
    """A client whose session notes each response (``("response", method, path)``) in
    ``events`` as its headers arrive, and lets ``gate`` hold it there."""
    from xiwidgets.client import Client

    session = requests.Session()

    def on_response(response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        path = response.request.path_url
        events.append(("response", response.request.method, path))
        if gate is not None:
            gate(path)

    session.hooks["response"].append(on_response)
    return Client(base_url=base_url, session=session, **options)


def record_players(designer: VoiceDesigner, events: list[tuple[Any, ...]]) -> None:
    """Note ``("player", index, audio)`` in ``events`` each time a player's audio changes."""
    for index, player in enumerate(designer.players):
        player.observe(lambda change, index=index: events.append(
            ("player", index, bytes(change["new"]))), names="value")


def is_stream(path: str) -> bool:
    return path.startswith("/v1/text-to-voice/") and path.endswith("/stream")


def preview_audio(client: Any, generated_voice_id: str) -> bytes:
    """A preview's audio as the server keeps it (a stream replays it)."""
    return b"".join(client.voice_design.preview.stream(generated_voice_id))


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A server with Joe and espeak-ng only: the widget's behaviour, quickly."""
    from xiwidgets.server import start_in_thread

    with (
        without_kokoro(tmp_path_factory.mktemp("no-kokoro")),
        start_in_thread(data_dir=tmp_path_factory.mktemp("server")) as handle,
    ):
        yield handle


@pytest.fixture(scope="module")
def client(plain_server: Any) -> Any:
    from xiwidgets.client import Client

    return Client(base_url=plain_server.base_url)


def test_describe_generate_play_and_save_a_voice_every_picker_lists(
    frontend: Any, client: Any, plain_server: Any,
) -> None:
    picker = VoicePicker(client=client)
    designer = VoiceDesigner(client=client)
    saved = []
    designer.on_saved(saved.append)
    assert not frontend.is_shown(designer, designer.previews_box)
    statuses: list[str] = []
    designer.status.observe(lambda change: statuses.append(change["new"]), names="value")
    frontend.set_state(designer.description_box, value=DEEP)
    frontend.click(designer.generate_button)
    assert designer.wait(120)

    assert designer.last_error is None, designer.error_card.text
    # The status line counted the previews as they came.
    assert "Preview 1 of 3 ready; making 2…" in statuses
    assert "Previews 1–2 of 3 ready; making 3…" in statuses
    assert frontend.is_shown(designer, designer.previews_box)
    # Each player holds its preview's audio, sent to the browser as a binary buffer.
    played = [decode_audio(player.value) for player in designer.players]
    assert all(len(samples) / rate > 2 for samples, rate in played)
    assert len({bytes(player.value) for player in designer.players}) == 3
    assert all(any(m.buffers for m in frontend.sent(player)) for player in designer.players)
    assert designer.design is not None and designer.design.text in designer.status.value

    name = f"Designed {uuid.uuid4().hex[:6]}"
    frontend.set_state(designer.choice, index=1)
    frontend.set_state(designer.name_box, value=name)
    frontend.click(designer.save_button)

    assert designer.last_error is None, designer.error_card.text
    assert designer.voice is not None and designer.voice.category == "generated"
    assert saved == [designer.voice]
    assert name in {voice.name for voice in picker.voices}
    listed = requests.get(f"{plain_server.base_url}/v1/voices", timeout=30).json()["voices"]
    assert name in {voice["name"] for voice in listed}
    assert designer.name_box.value == ""
    frontend.render(designer)


def test_a_short_description_or_text_is_explained_before_anything_is_sent(
    frontend: Any, client: Any, plain_server: Any,
) -> None:
    designer = VoiceDesigner(client=client, description="deep")
    before = requests.get(f"{plain_server.base_url}/v1/user/subscription",
                          timeout=30).json()["character_count"]
    frontend.click(designer.generate_button)
    assert "20 to 1000" in designer.error_card.text
    assert frontend.is_shown(designer, designer.error_card)
    designer.description_box.value = "A calm female voice for bedtime stories"
    designer.text_box.value = "Too short to read."
    designer.generate()
    assert "100 to 1000" in designer.error_card.text
    designer.save()
    assert "generate the previews first" in designer.error_card.text
    after = requests.get(f"{plain_server.base_url}/v1/user/subscription",
                         timeout=30).json()["character_count"]
    assert after == before
    assert designer.description_box.value == "A calm female voice for bedtime stories"


def test_a_preview_forgotten_by_a_restart_shows_the_servers_message(
    frontend: Any, server_factory: Any, tmp_path: Any,
) -> None:
    from urllib.parse import urlsplit

    from xiwidgets.client import Client

    with without_kokoro(tmp_path):
        first = server_factory()
        client = Client(base_url=first.base_url)
        designer = VoiceDesigner(client=client, description=BRIGHT)
        assert designer.generate() is not None, designer.error_card.text
        # The server restarts (same address, same data): its previews are forgotten.
        first.stop()
        server_factory(data_dir=first.data_dir, port=urlsplit(first.base_url).port)
        designer.name_box.value = "Too late"
        frontend.click(designer.save_button)
    assert designer.voice is None
    assert "Design the voice again" in designer.error_card.text
    assert designer.name_box.value == "Too late"


def test_each_preview_is_in_its_player_before_the_next_is_made(
    frontend: Any, plain_server: Any,
) -> None:
    events: list[tuple[Any, ...]] = []
    designer = VoiceDesigner(client=recording_client(plain_server.base_url, events),
                             description=DEEP)
    record_players(designer, events)
    frontend.click(designer.generate_button)
    assert designer.wait(120)
    assert designer.last_error is None, designer.error_card.text

    assert designer.design is not None
    ids = [preview.generated_voice_id for preview in designer.design.previews]
    order = [(event[0], event[1]) if event[0] == "player" else ("stream", ids.index(
        event[2].split("/")[-2])) for event in events if event[0] == "player" or (
        event[0] == "response" and is_stream(event[2]))]
    # Preview 1 was playable before preview 2 was even asked for, and so on: the first is
    # heard after one preview's synthesis, not three.
    assert order == [("stream", 0), ("player", 0), ("stream", 1), ("player", 1),
                     ("stream", 2), ("player", 2)]


def test_a_click_returns_before_the_previews_are_made_and_a_second_click_waits(
    frontend: Any, plain_server: Any,
) -> None:
    events: list[tuple[Any, ...]] = []
    gate = Gate(lambda path: path.startswith("/v1/text-to-voice/design"))
    designer = VoiceDesigner(client=recording_client(plain_server.base_url, events, gate),
                             description=DEEP)
    frontend.click(designer.generate_button)
    # The click came back while the server's answer was still held: the kernel is free.
    assert not gate.released.is_set()
    assert designer.busy and designer.generate_button.disabled
    assert not any(player.value for player in designer.players)
    assert frontend.updates(designer.generate_button)[-1] == {"disabled": True}
    # A click that left the browser before it greyed the button starts no second design.
    frontend.click(designer.generate_button)
    gate.released.set()
    assert designer.wait(120)

    assert not gate.timed_out, "the click waited for the design"
    assert designer.last_error is None, designer.error_card.text
    designs = [e for e in events if e[0] == "response" and e[2].startswith(
        "/v1/text-to-voice/design")]
    assert len(designs) == 1
    assert all(player.value for player in designer.players)
    assert not designer.busy and not designer.generate_button.disabled


def test_a_server_gone_half_way_shows_on_the_card_and_keeps_what_came(
    frontend: Any, server_factory: Any, tmp_path: Any,
) -> None:
    from xiwidgets.client import Client

    text = ("The quick brown fox jumps over the lazy dog, then naps in the warm afternoon sun "
            "while the farmer reads.")
    with without_kokoro(tmp_path):
        server = server_factory()
        designer = VoiceDesigner(client=Client(base_url=server.base_url, max_retries=0),
                                 description=BRIGHT)
        designer.text_box.value = text
        # The server goes away once preview 1 is in its player (before preview 2 is asked for).
        designer.players[0].observe(lambda _change: server.stop(), names="value")
        frontend.click(designer.generate_button)
        assert designer.wait(120)

    assert designer.last_error is not None
    assert frontend.is_shown(designer, designer.error_card)
    assert f"Could not reach {server.base_url}" in designer.error_card.text
    assert designer.players[0].value and not designer.players[1].value
    assert not designer.players[2].value
    assert designer.status.value == "Preview 1 of 3 ready; preview 2 could not be made."
    assert designer.description_box.value == BRIGHT and designer.text_box.value == text
    assert not designer.busy and not designer.generate_button.disabled


def test_a_preview_stream_cut_off_shows_on_the_card(
    frontend: Any, plain_server: Any,
) -> None:
    from xiwidgets.client import Client, StreamInterrupted

    # A network that drops the connection a hundred kilobytes in: the design's answer gets
    # through, preview 1's audio (over 200 kB) does not.
    proxy = DroppingProxy(plain_server.base_url, cut_after_bytes=100_000)
    try:
        designer = VoiceDesigner(client=Client(base_url=proxy.base_url, max_retries=0),
                                 description=DEEP)
        frontend.click(designer.generate_button)
        assert designer.wait(120)
    finally:
        proxy.close()

    assert isinstance(designer.last_error, StreamInterrupted), designer.error_card.text
    assert "The preview stream was cut off after" in designer.error_card.text
    assert frontend.is_shown(designer, designer.error_card)
    assert not any(player.value for player in designer.players)
    assert designer.status.value == "No preview ready; preview 1 could not be made."
    assert designer.description_box.value == DEEP
    assert not designer.busy and not designer.generate_button.disabled


def test_a_late_preview_of_a_superseded_design_never_reaches_a_player(
    frontend: Any, client: Any, plain_server: Any,
) -> None:
    events: list[tuple[Any, ...]] = []
    gate = Gate(is_stream, nth=2)
    designer = VoiceDesigner(client=recording_client(plain_server.base_url, events, gate),
                             description=BRIGHT)
    frontend.click(designer.generate_button)
    # Design A's preview 1 is in its player; its preview 2 is held on the way.
    assert gate.reached.wait(60), designer.error_card.text
    first = designer.design
    assert first is not None and designer.players[0].value

    landed: list[tuple[Any, ...]] = []
    record_players(designer, landed)
    frontend.set_state(designer.description_box, value=DEEP)
    second = designer.generate()
    assert second is not None, designer.error_card.text
    gate.released.set()  # A's preview 2 arrives now, after B is finished
    assert designer.wait(120)

    assert not gate.timed_out
    late = preview_audio(client, first.previews[1].generated_voice_id)
    ours = [preview.audio for preview in second.previews]
    assert [bytes(player.value) for player in designer.players] == ours
    assert {audio for *_, audio in landed if audio} == set(ours)
    assert late not in {audio for *_, audio in landed}
    assert designer.design == second
    assert second.text in designer.status.value
    assert designer.last_error is None and not designer.error_card.text
    assert not designer.busy and not designer.generate_button.disabled


def test_a_preview_not_made_yet_can_be_saved(
    frontend: Any, plain_server: Any,
) -> None:
    events: list[tuple[Any, ...]] = []
    gate = Gate(is_stream, nth=2)
    designer = VoiceDesigner(client=recording_client(plain_server.base_url, events, gate),
                             description=DEEP)
    frontend.click(designer.generate_button)
    assert gate.reached.wait(60), designer.error_card.text
    assert not designer.players[2].value

    name = f"Early {uuid.uuid4().hex[:6]}"
    frontend.set_state(designer.choice, index=2)
    frontend.set_state(designer.name_box, value=name)
    frontend.click(designer.save_button)
    gate.released.set()
    assert designer.wait(120)

    assert designer.last_error is None, designer.error_card.text
    assert designer.voice is not None and designer.voice.category == "generated"
    listed = requests.get(f"{plain_server.base_url}/v1/voices", timeout=30).json()["voices"]
    assert name in {voice["name"] for voice in listed}
    # The previews went on coming, and the line still says the voice was saved.
    assert all(player.value for player in designer.players)
    assert designer.design is not None and designer.design.text in designer.status.value
    assert f"Saved <b>{name}</b>" in designer.status.value
