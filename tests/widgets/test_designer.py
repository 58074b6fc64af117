"""VoiceDesigner against the real local server, driven like a browser would drive it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.server.helpers import decode_audio, without_kokoro
from xiwidgets.widgets.designer import VoiceDesigner
from xiwidgets.widgets.voices import VoicePicker

pytestmark = pytest.mark.timeout(300)


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
    frontend.set_state(designer.description_box, value="An old man with a deep, slow voice")
    frontend.click(designer.generate_button)

    assert designer.last_error is None, designer.error_card.text
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
        designer = VoiceDesigner(client=client,
                                 description="A bright, quick young woman's voice")
        assert designer.generate() is not None, designer.error_card.text
        # The server restarts (same address, same data): its previews are forgotten.
        first.stop()
        server_factory(data_dir=first.data_dir, port=urlsplit(first.base_url).port)
        designer.name_box.value = "Too late"
        frontend.click(designer.save_button)
    assert designer.voice is None
    assert "Design the voice again" in designer.error_card.text
    assert designer.name_box.value == "Too late"
