"""Voices over HTTP: listing, searching, settings, previews, adding, editing, deleting."""

from __future__ import annotations

import json

import pytest

from tests.server.helpers import decode_audio, delete, get, post, voice_id_named, wav_sample


def test_v1_lists_at_least_ten_premade_voices_over_six_languages(server):
    voices = get(server, "/v1/voices").json()["voices"]
    premade = [voice for voice in voices if voice["category"] == "premade"]
    assert len(premade) >= 10
    assert len({voice["labels"]["language"] for voice in premade}) >= 6
    assert all(len(voice["voice_id"]) == 20 for voice in premade)
    assert "Joe" in {voice["name"] for voice in premade}


def test_preview_url_serves_an_mp3_of_the_voice(server):
    voice = get(server, f"/v1/voices/{voice_id_named(server, 'Camille')}").json()
    assert voice["preview_url"].startswith(server.base_url)
    response = get(server, voice["preview_url"][len(server.base_url) :])
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/mpeg"
    samples, rate = decode_audio(response.content)
    assert 1.0 < len(samples) / rate < 15.0
    again = get(server, voice["preview_url"][len(server.base_url) :])
    assert again.content == response.content  # cached, not synthesized anew


def test_v2_pages_through_every_voice_with_the_token(server):
    every = {voice["voice_id"] for voice in get(server, "/v1/voices").json()["voices"]}
    seen, token, pages = [], None, 0
    while True:
        params = {"page_size": 4, **({"next_page_token": token} if token else {})}
        page = get(server, "/v2/voices", params=params).json()
        assert page["total_count"] == len(every)
        assert len(page["voices"]) <= 4
        seen += [voice["voice_id"] for voice in page["voices"]]
        pages += 1
        if not page["has_more"]:
            assert page["next_page_token"] is None
            break
        token = page["next_page_token"]
    assert sorted(seen) == sorted(every) and len(seen) == len(every)
    assert pages == -(-len(every) // 4)


def test_v2_search_sort_and_filters(server):
    french = get(server, "/v2/voices", params={"search": "parisian"}).json()
    # Every voice labelled parisian, and only those (Kokoro's Siwis too, once installed).
    assert {"Camille", "Julien"} <= {voice["name"] for voice in french["voices"]}
    assert {voice["labels"]["accent"] for voice in french["voices"]} == {"parisian"}
    by_name = get(
        server, "/v2/voices", params={"sort": "name", "sort_direction": "desc", "page_size": 100}
    ).json()["voices"]
    names = [voice["name"] for voice in by_name]
    assert names == sorted(names, key=str.lower, reverse=True)
    wanted = [voice_id_named(server, "Joe"), voice_id_named(server, "Greta")]
    picked = get(server, "/v2/voices", params=[("voice_ids", wanted[0]), ("voice_ids", wanted[1])])
    assert {voice["voice_id"] for voice in picked.json()["voices"]} == set(wanted)
    defaults = get(server, "/v2/voices", params={"voice_type": "default", "page_size": 100})
    assert {voice["category"] for voice in defaults.json()["voices"]} == {"premade"}


def test_get_voice_and_unknown_voice(server):
    joe = voice_id_named(server, "Joe")
    voice = get(server, f"/v1/voices/{joe}").json()
    assert voice["name"] == "Joe" and voice["settings"]["speed"] == 1.0
    missing = get(server, "/v1/voices/doesNotExist12345678")
    assert missing.status_code == 404
    assert missing.json()["detail"]["status"] == "voice_not_found"


def test_voice_settings_edit_is_stored_and_used_as_default(server):
    amelia = voice_id_named(server, "Amelia")
    before = get(server, f"/v1/voices/{amelia}/settings").json()
    edited = post(server, f"/v1/voices/{amelia}/settings/edit", json={"speed": 1.15})
    assert edited.status_code == 200 and edited.json() == {"status": "ok"}
    after = get(server, f"/v1/voices/{amelia}/settings").json()
    assert after == {**before, "speed": 1.15}
    assert get(server, f"/v1/voices/{amelia}").json()["settings"]["speed"] == 1.15
    post(server, f"/v1/voices/{amelia}/settings/edit", json=before)
    assert get(server, f"/v1/voices/{amelia}/settings").json() == before


def test_settings_edit_out_of_range_is_refused_and_not_stored(server):
    amelia = voice_id_named(server, "Amelia")
    before = get(server, f"/v1/voices/{amelia}/settings").json()
    response = post(server, f"/v1/voices/{amelia}/settings/edit", json={"stability": 3})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "stability"]
    assert get(server, f"/v1/voices/{amelia}/settings").json() == before


@pytest.fixture(scope="module")
def sample(server) -> bytes:
    return wav_sample(
        server,
        voice_id_named(server, "Oliver"),
        "The quick brown fox jumps over the lazy dog, and then it rests in the warm sun.",
    )


@pytest.mark.parametrize(
    "labels_field",
    [
        None,
        "null",
        json.dumps({"accent": "british"}),
        json.dumps(json.dumps({"accent": "british"})),
    ],
    ids=["absent", "null", "json", "double-encoded"],
)
def test_add_voice_accepts_every_labels_encoding(server, sample, labels_field):
    data = {"name": "Sampled", "description": "from a test"}
    if labels_field is not None:
        data["labels"] = labels_field
    response = post(server, "/v1/voices/add", data=data, files=[("files", ("s.wav", sample))])
    assert response.status_code == 200, response.text
    voice_id = response.json()["voice_id"]
    voice = get(server, f"/v1/voices/{voice_id}").json()
    expected = {} if labels_field in (None, "null") else {"accent": "british"}
    assert voice["category"] == "cloned" and voice["labels"] == expected
    assert voice["samples"][0]["file_name"] == "s.wav"
    assert voice["samples"][0]["size_bytes"] == len(sample)
    assert delete(server, f"/v1/voices/{voice_id}").json() == {"status": "ok"}
    assert get(server, f"/v1/voices/{voice_id}").status_code == 404


def test_added_voice_speaks_edits_and_previews(server, sample):
    response = post(
        server, "/v1/voices/add", data={"name": "Clone"}, files=[("files", ("a.wav", sample))]
    )
    voice_id = response.json()["voice_id"]
    take = post(server, f"/v1/text-to-speech/{voice_id}", json={"text": "Testing my clone."})
    assert take.status_code == 200 and len(decode_audio(take.content)[0]) > 0
    edited = post(
        server,
        f"/v1/voices/{voice_id}/edit",
        data={"name": "Clone Two", "labels": json.dumps({"mood": "calm"})},
        files=[("files", ("b.wav", sample))],
    )
    assert edited.status_code == 200 and edited.json() == {"status": "ok"}
    voice = get(server, f"/v1/voices/{voice_id}").json()
    assert voice["name"] == "Clone Two" and voice["labels"] == {"mood": "calm"}
    assert [s["file_name"] for s in voice["samples"]] == ["a.wav", "b.wav"]
    preview = get(server, f"/v1/voices/{voice_id}/preview")
    assert preview.status_code == 200 and len(decode_audio(preview.content)[0]) > 0
    delete(server, f"/v1/voices/{voice_id}")


def test_non_audio_upload_is_refused_and_no_voice_is_added(server):
    before = len(get(server, "/v1/voices").json()["voices"])
    response = post(
        server,
        "/v1/voices/add",
        data={"name": "Not audio"},
        files=[("files", ("notes.wav", b"these are not the samples you are looking for" * 50))],
    )
    assert response.status_code == 400
    assert "audio" in response.json()["detail"]["message"].lower()
    assert len(get(server, "/v1/voices").json()["voices"]) == before


def test_oversized_upload_is_refused_and_no_voice_is_added(server):
    before = len(get(server, "/v1/voices").json()["voices"])
    too_big = b"\0" * (server.config.max_upload_file_bytes + 1)
    response = post(
        server, "/v1/voices/add", data={"name": "Huge"}, files=[("files", ("big.wav", too_big))]
    )
    assert response.status_code == 413
    assert "bytes" in response.json()["detail"]["message"]
    assert len(get(server, "/v1/voices").json()["voices"]) == before
    assert get(server, "/v1/models").status_code == 200


def test_add_voice_without_files_is_a_422(server):
    response = post(server, "/v1/voices/add", data={"name": "No files"})
    assert response.status_code == 422
    assert any(error["loc"][-1] == "files" for error in response.json()["detail"])


def test_premade_voice_cannot_be_deleted(server):
    joe = voice_id_named(server, "Joe")
    response = delete(server, f"/v1/voices/{joe}")
    assert response.status_code == 400
    assert "premade" in response.json()["detail"]["message"]
    assert get(server, f"/v1/voices/{joe}").status_code == 200


def test_default_settings(server):
    settings = get(server, "/v1/voices/settings/default").json()
    assert settings == {
        "stability": 0.5,
        "similarity_boost": 0.75,
        "style": 0.0,
        "use_speaker_boost": True,
        "speed": 1.0,
    }


def test_models_is_a_bare_array_with_the_default_model(server):
    models = get(server, "/v1/models").json()
    assert isinstance(models, list)
    ids = {model["model_id"] for model in models}
    assert {"eleven_multilingual_v2", "eleven_flash_v2_5", "eleven_turbo_v2_5"} <= ids
    default = next(m for m in models if m["model_id"] == "eleven_multilingual_v2")
    assert default["maximum_text_length_per_request"] == 10_000
    assert default["model_rates"]["character_cost_multiplier"] == 1.0
