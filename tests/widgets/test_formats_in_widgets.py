"""The Player, its JavaScript and the Studio get media types and file names from formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xiwidgets.formats import CODECS, DEFAULT_OUTPUT_FORMAT, NOTEBOOK_OUTPUT_FORMAT, OutputFormat
from xiwidgets.widgets.player import Player
from xiwidgets.widgets.studio import Studio

pytestmark = pytest.mark.timeout(180)


def start_message(frontend: Any, player: Player) -> dict:
    (start,) = [content for content, _ in frontend.custom(player) if content["type"] == "start"]
    return start


@pytest.mark.parametrize("name", ["pcm_16000", "opus_48000_64", "ulaw_8000", "mp3_22050_32"])
def test_a_take_reaches_the_browser_and_the_disk_with_the_tables_type_and_extension(
    frontend: Any, client: Any, tmp_path: Path, name: str,
) -> None:
    fmt = OutputFormat.parse(name)
    player = Player(client=client, policy="link", takes_dir=tmp_path)
    stream = client.tts.stream("Joe", text=f"A {fmt.codec} take.", output_format=name)

    take = player.play_stream(stream, content_type=stream.content_type)

    start = start_message(frontend, player)
    # The JavaScript names its "Download take" link after the extension sent here.
    assert (start["content_type"], start["extension"]) == (fmt.media_type, fmt.extension)
    assert player.content_type == fmt.media_type
    assert [(p.suffix, p.read_bytes()) for p in tmp_path.iterdir()] == [(fmt.extension, take)]


def test_a_take_of_unstated_type_is_taken_as_the_clients_default_format(
    frontend: Any, client: Any,
) -> None:
    default = OutputFormat.parse(DEFAULT_OUTPUT_FORMAT)
    player = Player(client=client, policy="none")

    player.play_stream(client.tts.stream("Joe", text="No type given."))

    start = start_message(frontend, player)
    assert (start["content_type"], start["extension"]) == (default.media_type, default.extension)
    assert player.duration > 0.3  # measured as the default format's audio


@pytest.mark.parametrize("codec", list(CODECS))
def test_the_studio_streams_exactly_the_formats_a_browser_plays_live(
    frontend: Any, client: Any, codec: str,
) -> None:
    name = CODECS[codec].names[0]
    if not CODECS[codec].live_in_browser:
        with pytest.raises(ValueError, match=f"got output_format={name!r}"):
            Studio(client=client, output_format=name)
        return
    studio = Studio(client=client, output_format=name)

    take = studio.speak("Live in the browser.", wait=True)

    assert take is not None, studio.error_card.text
    start = start_message(frontend, studio.player)
    assert start["content_type"] == OutputFormat.parse(name).media_type


def test_a_studio_asks_for_the_notebook_format_by_default(frontend: Any, client: Any) -> None:
    take = Studio(client=client).speak("Kept small in the notebook.", wait=True)

    assert take is not None
    assert client.history.get(take.history_item_id).output_format == NOTEBOOK_OUTPUT_FORMAT
