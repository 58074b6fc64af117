"""The pronunciation editor, used as in the browser, alone and attached to a Studio."""

from __future__ import annotations

from typing import Any

import pytest
import soxr

from tests.server.helpers import decode_audio
from xiwidgets.widgets.pronunciation import KINDS, PronunciationEditor
from xiwidgets.widgets.studio import Studio

pytestmark = pytest.mark.timeout(180)


def _heard(mp3: bytes) -> list[str]:
    from xiwidgets.experiments.whisper import WHISPER_RATE, transcribe

    samples, rate = decode_audio(mp3)
    text = transcribe(soxr.resample(samples, rate, WHISPER_RATE), language="en")
    return text.lower().replace(",", " ").replace(".", " ").split()


def _kind(alphabet: str | None) -> int:
    return next(index for index, (_label, value) in enumerate(KINDS) if value == alphabet)


def test_rules_are_added_said_and_removed_from_the_table(frontend: Any, client: Any) -> None:
    editor = PronunciationEditor(client=client, voice="Joe")
    frontend.set_state(frontend.find(editor, "xi-rule-word"), value="red")
    frontend.set_state(frontend.find(editor, "xi-rule-kind"), index=_kind("ipa"))
    frontend.set_state(frontend.find(editor, "xi-rule-said"), value="ˈɡɹiːn")
    frontend.click(frontend.find(editor, "xi-rule-add"))

    assert editor.last_error is None, editor.error_card.text
    assert editor.rule_count == 1 and editor.dictionary_id
    rows = frontend.find_all(editor, "xi-rule")
    assert len(rows) == 1 and "red" in rows[0].children[0].value
    first_version = editor.version_id

    frontend.click(frontend.find(editor, "xi-rule-say"))
    said = b"".join(b[0] for c, b in frontend.custom(editor.player) if c["type"] == "chunk")
    heard = _heard(said)
    # One word alone: Whisper hears "green" or, now and then, "agreeing"; never "red".
    assert "red" not in heard and "gree" in " ".join(heard), heard

    frontend.click(frontend.find(editor, "xi-rule-remove"))
    assert editor.rule_count == 0 and not frontend.find_all(editor, "xi-rule")
    assert editor.version_id != first_version
    assert client.pronunciation.get(editor.dictionary_id).rules == ()


def test_a_rule_without_a_word_is_refused_on_the_card(frontend: Any, client: Any) -> None:
    editor = PronunciationEditor(client=client, voice="Joe")
    frontend.set_state(frontend.find(editor, "xi-rule-said"), value="London")
    frontend.click(frontend.find(editor, "xi-rule-add"))
    assert "needs a word" in editor.error_card.text
    assert editor.dictionary_id == "" and editor.locators == []


def test_a_studio_with_the_editor_attached_says_its_takes_with_the_rules(
    frontend: Any, client: Any
) -> None:
    studio = Studio(client=client, voice="Joe")
    editor = PronunciationEditor(client=client)
    studio.attach_pronunciation(editor)
    assert frontend.find(studio, "xi-pronunciation") is editor
    assert editor.voice == studio.voice_picker.voice_id

    editor.add_rule("Zqx", "London")
    take = studio.speak("We flew to Zqx today.", wait=True)

    assert studio.last_error is None, studio.error_card.text
    assert "london" in _heard(take.audio)
    assert client.history.get(take.history_item_id).text == "We flew to Zqx today."
