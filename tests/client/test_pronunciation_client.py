"""``client.pronunciation`` and ``client.tts.realtime_multi`` against the real local server."""

from __future__ import annotations

import pytest

from xiwidgets.client import ContextChunk, NotFound, PronunciationRule, XIError


def test_a_dictionary_is_made_changed_downloaded_and_used_by_a_take(client, voice_id):
    made = client.pronunciation.create_from_rules(
        [PronunciationRule.said_as("UN", "United Nations")], name="Acronyms")
    assert made.latest_version_rules_num == 1 and made.name == "Acronyms"
    added = client.pronunciation.rules.add(
        made.id, [PronunciationRule.phonemes("tomato", "T AH0 M AA1 T OW2", "cmu-arpabet")])
    assert added.version_rules_num == 2 and added.version_id != made.latest_version_id
    got = client.pronunciation.get(made.id)
    assert [rule.string_to_replace for rule in got.rules] == ["UN", "tomato"]
    assert got.rules[1].alphabet == "cmu-arpabet"
    pls = client.pronunciation.download(made.id, added.version_id)
    again = client.pronunciation.create_from_file("Copy", pls)
    assert client.pronunciation.get(again.id).rules == got.rules
    removed = client.pronunciation.rules.remove(made.id, ["UN"])
    assert removed.version_rules_num == 1
    renamed = client.pronunciation.update(made.id, name="Food")
    assert renamed.name == "Food"
    page = client.pronunciation.list(page_size=100)
    assert made.id in {d.id for d in page.pronunciation_dictionaries}

    take = client.tts.convert_with_timestamps(
        voice_id, text="The UN met.", pronunciation_dictionary_locators=[added.locator()])
    assert take.alignment.text == "The UN met."  # aligned to the text as sent


def test_unknown_dictionaries_raise_not_found(client):
    with pytest.raises(NotFound, match="does not exist"):
        client.pronunciation.get("no-such-dictionary")


def test_realtime_multi_keeps_contexts_apart(client, voice_id):
    with client.tts.realtime_multi(voice_id, output_format="mp3_22050_32") as stream:
        stream.send("First context speaking.", "one", flush=True)
        stream.send("Second context, faster.", "two", voice_settings={"speed": 1.2},
                    flush=True)
        stream.close_socket()
        chunks = list(stream)
    assert all(isinstance(chunk, ContextChunk) for chunk in chunks)
    finals = [chunk.context_id for chunk in chunks if chunk.is_final]
    assert sorted(finals) == ["one", "two"]
    for context_id, text in [("one", "First context speaking. "),
                             ("two", "Second context, faster. ")]:
        spoken = "".join(c.alignment.text for c in chunks
                         if c.context_id == context_id and c.alignment)
        assert spoken == text


def test_realtime_multi_raises_the_servers_refusal(client, voice_id):
    with client.tts.realtime_multi(voice_id) as stream:
        for number in range(6):
            stream.send("Hello.", f"c{number}")
        with pytest.raises(XIError, match="max_active_conversations"):
            list(stream)
