"""What a server stores survives a restart on the same data directory; debris is cleaned up."""

from __future__ import annotations

import sqlite3

from tests.server.helpers import decode_audio, get, post, voice_id_named, wav_sample


def test_cloned_voice_history_and_settings_survive_a_restart(server_factory, tmp_path):
    first = server_factory(data_dir=tmp_path)
    joe = voice_id_named(first, "Joe")
    sample = wav_sample(first, joe, "A sample recording for the clone, spoken calmly and clearly.")
    files = [("files", ("k.wav", sample))]
    added = post(first, "/v1/voices/add", data={"name": "Kept"}, files=files)
    assert added.status_code == 200, added.text
    voice_id = added.json()["voice_id"]
    take = post(first, f"/v1/text-to-speech/{voice_id}", json={"text": "Still here."})
    item_id = take.headers["history-item-id"]
    post(first, f"/v1/voices/{joe}/settings/edit", json={"stability": 0.2})
    used = get(first, "/v1/user/subscription").json()["character_count"]
    first.stop()

    second = server_factory(data_dir=tmp_path)
    voice = get(second, f"/v1/voices/{voice_id}").json()
    assert voice["name"] == "Kept" and voice["samples"][0]["size_bytes"] == len(sample)
    assert get(second, f"/v1/history/{item_id}/audio").content == take.content
    assert get(second, f"/v1/voices/{joe}/settings").json()["stability"] == 0.2
    assert get(second, "/v1/user/subscription").json()["character_count"] == used
    again = post(second, f"/v1/text-to-speech/{voice_id}", json={"text": "Still here."})
    assert again.status_code == 200 and len(decode_audio(again.content)[0]) > 0


def test_start_up_removes_orphan_files_and_rows_without_audio(server_factory, tmp_path):
    first = server_factory(data_dir=tmp_path)
    joe = voice_id_named(first, "Joe")
    kept = post(first, f"/v1/text-to-speech/{joe}", json={"text": "Kept take."})
    lost = post(first, f"/v1/text-to-speech/{joe}", json={"text": "Lost take."})
    first.stop()
    (tmp_path / "audio" / f"{lost.headers['history-item-id']}.mp3").unlink()
    stray = tmp_path / "audio" / "crashed-mid-write.mp3"
    stray.write_bytes(b"partial")

    second = server_factory(data_dir=tmp_path)
    ids = [item["history_item_id"] for item in get(second, "/v1/history").json()["history"]]
    assert ids == [kept.headers["history-item-id"]]
    assert not stray.exists()
    with sqlite3.connect(tmp_path / "xiwidgets.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
