"""The IPython extension in a real InteractiveShell against the real local server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from xiwidgets.magics import register_magics

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def shell() -> Iterator[InteractiveShell]:
    yield InteractiveShell.instance()


@pytest.fixture(scope="module")
def client(server: Any) -> Any:
    from xiwidgets.client import Client

    return Client(base_url=server.base_url)


@pytest.fixture
def magics(shell: InteractiveShell, client: Any) -> Any:
    return register_magics(shell, client=client)


def history_with(server: Any, token: str) -> list[dict]:
    response = requests.get(f"{server.base_url}/v1/history", params={"search": token}, timeout=10)
    response.raise_for_status()
    return response.json()["history"]


def test_speak_cell_streams_into_a_player_with_the_options(
    shell: InteractiveShell, magics: Any, server: Any, client: Any
) -> None:
    token = f"magic{uuid.uuid4().hex[:8]}"
    voice = client.voices.list()[1]
    with capture_output() as captured:
        shell.run_cell_magic(
            "speak",
            f'--voice "{voice.name}" --stability 0.2 --similarity 0.9 --speed 1.15 '
            "--no-speaker-boost --seed 7 --format mp3_22050_32 --policy none",
            f"Hello from a cell {token}.\n",
        )
    assert captured.stderr == ""
    (item,) = history_with(server, token)
    assert item["text"] == f"Hello from a cell {token}."
    assert item["voice_id"] == voice.voice_id
    assert item["settings"]["stability"] == pytest.approx(0.2)
    assert item["settings"]["similarity_boost"] == pytest.approx(0.9)
    assert item["settings"]["speed"] == pytest.approx(1.15)
    assert item["settings"]["use_speaker_boost"] is False
    widget_views = [output for output in captured.outputs
                    if "application/vnd.jupyter.widget-view+json" in output.data]
    assert len(widget_views) == 1
    assert magics.last_player.bytes_received > 0


def test_speak_embeds_the_finished_take_by_default(
    shell: InteractiveShell, magics: Any, server: Any
) -> None:
    token = f"embed{uuid.uuid4().hex[:8]}"
    with capture_output() as captured:
        shell.run_cell_magic("speak", "", f"Keep me in the notebook {token}.")
    assert captured.stderr == ""
    assert len(history_with(server, token)) == 1
    player = magics.last_player
    assert player.status == "done"
    (kept,) = player.take_output.outputs
    assert "data:audio/mpeg;base64," in kept["data"]["text/html"]

    with capture_output():
        shell.run_cell_magic("speak", "--policy none", f"Keep nothing {token}.")
    assert magics.last_player.status == "done"
    assert magics.last_player.take_output.outputs == ()


def test_unknown_voice_prints_one_line(shell: InteractiveShell, magics: Any) -> None:
    with capture_output() as captured:
        shell.run_cell_magic("speak", "--voice Nobody-At-All", "Hello.")
    lines = captured.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("%%speak failed:")
    assert "Nobody-At-All" in lines[0]
    assert "Traceback" not in captured.stdout + captured.stderr


def test_bad_setting_prints_one_line(shell: InteractiveShell, magics: Any) -> None:
    with capture_output() as captured:
        shell.run_cell_magic("speak", "--speed 5", "Too fast.")
    lines = captured.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("%%speak failed:")
    assert "speed" in lines[0].lower()


def test_empty_cell_is_explained(shell: InteractiveShell, magics: Any) -> None:
    with capture_output() as captured:
        shell.run_cell_magic("speak", "", "   \n")
    assert "cell is empty" in captured.stderr


def test_xi_voices_shows_a_table_and_filters(shell: InteractiveShell, magics: Any,
                                             client: Any) -> None:
    voices = client.voices.list()
    table = shell.run_line_magic("xi_voices", "")
    assert len(table) == len(voices)
    rendered = table._repr_html_()
    assert rendered.count("<tr>") == len(voices) + 1
    assert all(voice.voice_id in rendered for voice in voices)

    target = voices[2]
    narrowed = shell.run_line_magic("xi_voices", target.name.upper())
    assert target.voice_id in {voice.voice_id for voice in narrowed}
    assert len(narrowed) < len(voices)
    assert shell.run_line_magic("xi_voices", f"zz{uuid.uuid4().hex}") == []


def test_xi_history_shows_the_history_table(shell: InteractiveShell, magics: Any,
                                            client: Any) -> None:
    from xiwidgets.widgets.history import HistoryTable

    client.tts.convert(client.voices.list()[1].voice_id, text="For the history magic.",
                       output_format="mp3_22050_32")
    table = shell.run_line_magic("xi_history", "--page-size 5")
    assert isinstance(table, HistoryTable)
    assert table.page_size == 5
    assert 1 <= len(table.items) <= 5


def test_load_ext_uses_the_configured_server(shell: InteractiveShell, server: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEVENLABS_BASE_URL", server.base_url)
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    monkeypatch.delenv("XI_API_KEY", raising=False)
    shell.run_line_magic("load_ext", "xiwidgets")
    table = shell.run_line_magic("xi_voices", "")
    assert len(table) >= 2


def test_key_never_shows_in_errors(shell: InteractiveShell, server_factory: Any) -> None:
    from xiwidgets.client import Client

    secret = f"sk-{uuid.uuid4().hex}"
    keyed = server_factory(api_keys=["the-right-key"])
    register_magics(shell, client=Client(api_key=secret, base_url=keyed.base_url))
    with capture_output() as captured:
        shell.run_cell_magic("speak", "", "Who am I?")
        voices = shell.run_line_magic("xi_voices", "")
    assert voices is None
    lines = captured.stderr.strip().splitlines()
    assert len(lines) == 2
    assert all("failed" in line for line in lines)
    assert secret not in captured.stdout + captured.stderr
    assert all(secret not in str(output.data) for output in captured.outputs)
