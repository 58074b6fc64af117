"""DialogueEditor against the real local server, used the way a person in the browser would."""

from __future__ import annotations

import time
from typing import Any

import ipywidgets as widgets
import pytest

from xiwidgets.widgets.dialogue import DialogueEditor
from xiwidgets.widgets.history import HistoryTable

pytestmark = pytest.mark.timeout(180)


def wait_until(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def option_index(dropdown: widgets.Dropdown, value: Any) -> int:
    return [v for _label, v in dropdown.options].index(value)


def test_rows_are_added_reordered_removed_and_spoken_as_one_take(frontend, client):
    joe, amelia = client.voices.find("Joe").voice_id, client.voices.find("Amelia").voice_id
    editor = DialogueEditor(client=client, lines=[("Where are my keys?", "Joe")])
    takes = []
    editor.on_take(takes.append)

    frontend.click(frontend.find(editor, "xi-dialogue-add"))
    new_row = frontend.find_all(editor, "xi-dialogue-row")[-1]
    frontend.set_state(frontend.find(new_row, "xi-dialogue-line"), value="On the kitchen table.")
    voice = frontend.find(new_row, "xi-dialogue-voice")
    frontend.set_state(voice, index=option_index(voice, amelia))
    frontend.click(frontend.find(editor, "xi-dialogue-add"))
    frontend.set_state(frontend.find_all(editor, "xi-dialogue-line")[-1], value="Scratch this.")
    frontend.click(frontend.find_all(editor, "xi-dialogue-remove")[-1])
    frontend.click(frontend.find_all(editor, "xi-dialogue-up")[1])  # Amelia's line goes first
    assert editor.lines == [("On the kitchen table.", amelia), ("Where are my keys?", joe)]
    assert editor.line_count == 2

    frontend.click(frontend.find(editor, "xi-speak"))
    wait_until(lambda: not editor.busy)

    assert editor.last_error is None, editor.error_card.text
    take = editor.last_take
    assert takes == [take] and len(take.audio) > 1000
    streamed = b"".join(b[0] for c, b in frontend.custom(editor.player) if c["type"] == "chunk")
    assert streamed == take.audio  # played while it was generated, chunk by chunk
    item = client.history.get(take.history_item_id)
    assert [(line["text"], line["voice_id"]) for line in item.dialogue] == editor.lines
    assert f"{take.character_cost:,} characters billed" in editor.status
    assert frontend.render(editor) > 0
    history = HistoryTable(client=client, page_size=5)
    row = history.to_dataframe().set_index("history_item_id").loc[take.history_item_id]
    assert row["text"] == "On the kitchen table. Where are my keys?"
    assert row["voice_name"] == "Amelia / Joe"


def test_speak_without_any_line_shows_why_on_the_card(frontend, client):
    editor = DialogueEditor(client=client)
    assert editor.line_count == 2 and all(not text for text, _ in editor.lines)
    assert editor.speak(wait=True) is None
    assert "Nothing to say" in editor.error_card.text


def test_a_server_refusal_shows_on_the_card(frontend, client):
    editor = DialogueEditor(client=client, lines=[("x" * 2001, "Joe")])
    assert editor.speak(wait=True) is None
    assert "2,000" in editor.error_card.text and editor.status == "failed"


def test_every_control_has_an_accessible_name(frontend, client):
    editor = DialogueEditor(client=client, lines=[("One.", "Joe"), ("Two.", "Amelia")])
    controls = [
        *frontend.find_all(editor, "xi-dialogue-voice"),
        *frontend.find_all(editor, "xi-dialogue-line"),
        *frontend.find_all(editor, "xi-dialogue-up"),
        *frontend.find_all(editor, "xi-dialogue-down"),
        *frontend.find_all(editor, "xi-dialogue-remove"),
        frontend.find(editor, "xi-dialogue-add"),
        frontend.find(editor, "xi-speak"),
        frontend.find(editor, "xi-stop"),
    ]
    assert all(control.tooltip or control.description for control in controls)
    first_up, last_down = frontend.find_all(editor, "xi-dialogue-up")[0], frontend.find_all(
        editor, "xi-dialogue-down")[-1]
    assert first_up.disabled and last_down.disabled
