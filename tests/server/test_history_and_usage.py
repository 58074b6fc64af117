"""History (list, page, filter, get, audio, delete, download) and the account endpoints."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from tests.server.helpers import (
    character_count,
    decode_audio,
    delete,
    get,
    post,
    voice_id_named,
)


@pytest.fixture(scope="module")
def takes(server) -> list[dict]:
    """Three takes (two by Joe, one by Greta), oldest first, with their response headers."""
    return make_takes(server)


def make_takes(server) -> list[dict]:
    """Make the three takes of ``takes`` on ``server``."""
    made = []
    for name, text, model in [
        ("Joe", "First history take.", "eleven_multilingual_v2"),
        ("Greta", "Zweiter Eintrag.", "eleven_multilingual_v2"),
        ("Joe", "Third history take.", "eleven_turbo_v2_5"),
    ]:
        response = post(
            server,
            f"/v1/text-to-speech/{voice_id_named(server, name)}",
            json={"text": text, "model_id": model},
        )
        assert response.status_code == 200
        made.append({"id": response.headers["history-item-id"], "audio": response.content})
    return made


def test_history_is_newest_first_and_pages_with_the_cursor(server, takes):
    ids = [take["id"] for take in takes]
    first = get(server, "/v1/history", params={"page_size": 2}).json()
    assert [item["history_item_id"] for item in first["history"]] == ids[::-1][:2]
    assert first["has_more"] is True and first["last_history_item_id"] == ids[1]
    second = get(
        server,
        "/v1/history",
        params={"page_size": 2, "start_after_history_item_id": first["last_history_item_id"]},
    ).json()
    assert second["history"][0]["history_item_id"] == ids[0]


def test_history_filters(server, takes):
    joe = voice_id_named(server, "Joe")
    by_voice = get(server, "/v1/history", params={"voice_id": joe}).json()["history"]
    assert by_voice and {item["voice_id"] for item in by_voice} == {joe}
    found = get(server, "/v1/history", params={"search": "Zweiter"}).json()["history"]
    assert [item["history_item_id"] for item in found] == [takes[1]["id"]]
    turbo = get(server, "/v1/history", params={"model_id": "eleven_turbo_v2_5"}).json()["history"]
    assert takes[2]["id"] in {item["history_item_id"] for item in turbo}
    assert {item["model_id"] for item in turbo} == {"eleven_turbo_v2_5"}


def test_history_item_has_settings_and_alignment(server, takes):
    item = get(server, f"/v1/history/{takes[0]['id']}").json()
    assert item["state"] == "created" and item["content_type"] == "audio/mpeg"
    assert item["settings"]["stability"] == 0.5
    alignment = item["alignments"]["alignment"]
    assert "".join(alignment["characters"]) == "First history take."
    assert abs(time.time() - item["date_unix"]) < 600


def test_download_one_item_gives_its_audio_and_several_give_a_zip(server, takes):
    one = post(server, "/v1/history/download", json={"history_item_ids": [takes[0]["id"]]})
    assert one.status_code == 200 and one.content == takes[0]["audio"]
    wav = post(
        server,
        "/v1/history/download",
        json={"history_item_ids": [takes[0]["id"]], "output_format": "wav"},
    )
    assert wav.content[:4] == b"RIFF"
    assert abs(len(decode_audio(wav.content)[0]) - len(decode_audio(one.content)[0])) < 2000
    several = post(
        server, "/v1/history/download", json={"history_item_ids": [t["id"] for t in takes]}
    )
    assert several.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(several.content)) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    assert contents == {f"{take['id']}.mp3": take["audio"] for take in takes}


def test_download_with_a_bad_format_uses_the_error_message_shape(server, takes):
    response = post(
        server,
        "/v1/history/download",
        json={"history_item_ids": [takes[0]["id"]], "output_format": "flac"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_output_format"
    assert "flac" in response.json()["message"]


def test_delete_history_item_removes_row_and_audio(server):
    joe = voice_id_named(server, "Joe")
    made = post(server, f"/v1/text-to-speech/{joe}", json={"text": "Delete me."})
    item_id = made.headers["history-item-id"]
    audio_files = {path.name for path in (server.data_dir / "audio").iterdir()}
    assert f"{item_id}.mp3" in audio_files
    assert delete(server, f"/v1/history/{item_id}").json() == {"status": "ok"}
    assert get(server, f"/v1/history/{item_id}").status_code == 404
    assert not (server.data_dir / "audio" / f"{item_id}.mp3").exists()


def test_user_and_subscription_report_the_quota(server):
    user = get(server, "/v1/user").json()
    subscription = get(server, "/v1/user/subscription").json()
    assert user["subscription"]["character_limit"] == subscription["character_limit"] == 1_000_000
    assert subscription["next_character_count_reset_unix"] > time.time()
    assert subscription["status"] == "active" and subscription["has_open_invoices"] is False
    before = character_count(server)
    joe = voice_id_named(server, "Joe")
    response = post(server, f"/v1/text-to-speech/{joe}", json={"text": "Count me in."})
    assert character_count(server) == before + int(response.headers["character-cost"])


def test_character_stats_break_down_usage_by_voice_and_model(server_factory):
    # A server of its own: the session's is used by other test files, in whatever order the
    # test processes run them, and usage by voice counts every take it made.
    server = server_factory()
    make_takes(server)
    now_ms = int(time.time() * 1000)
    window = {"start_unix": now_ms - 3_600_000, "end_unix": now_ms + 60_000}
    total = get(server, "/v1/usage/character-stats", params=window).json()
    assert list(total["usage"]) == ["All"] and len(total["time"]) == len(total["usage"]["All"])
    assert all(t % 86_400_000 == 0 for t in total["time"])  # day buckets, in milliseconds
    assert sum(total["usage"]["All"]) >= len("First history take.")
    by_voice = get(
        server, "/v1/usage/character-stats", params={**window, "breakdown_type": "voice"}
    ).json()
    greta = voice_id_named(server, "Greta")
    assert sum(by_voice["usage"][greta]) == len("Zweiter Eintrag.")
    assert sum(map(sum, by_voice["usage"].values())) == sum(total["usage"]["All"])
    by_model = get(
        server,
        "/v1/usage/character-stats",
        params={**window, "breakdown_type": "model", "aggregation_interval": "hour"},
    ).json()
    assert sum(by_model["usage"]["eleven_turbo_v2_5"]) >= round(len("Third history take.") * 0.5)
