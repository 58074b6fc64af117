"""Voice design over HTTP: previews from a description, streaming, saving, bad input, billing.

The effect is measured, not assumed: Praat's pitch tracker (parselmouth) and words per minute
of the previews say that a "deep, slow male" design sounds lower and slower than a "bright,
fast female" one.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from pathlib import Path

import numpy as np
import pytest
import requests
from jsonschema import Draft202012Validator

from tests.server.helpers import (
    character_count,
    decode_audio,
    get,
    history_count,
    post,
    without_kokoro,
)
from xiwidgets.server.engines.kokoro_assets import check_assets

pytestmark = pytest.mark.timeout(600)

# ``../shared`` beside the checkout (a worktree sits one level deeper than the main one).
SPEC_PATHS = [
    folder / "shared" / "reference" / "elevenlabs-openapi-subset-2.json"
    for folder in Path(__file__).resolve().parents
]
SPEC_PATH = next((path for path in SPEC_PATHS if path.exists()), None)
SPEC = json.loads(SPEC_PATH.read_text()) if SPEC_PATH is not None else None
TEXT = (
    "The morning train was late again, so Maria walked to the office along the river and "
    "counted the boats."
)
DEEP = "A deep, slow male voice, calm and measured."
BRIGHT = "A bright, fast female voice, young and cheerful."


def assert_conforms(payload: object, path: str, method: str = "post") -> None:
    if SPEC is None:
        pytest.skip("official OpenAPI subset 2 not present")
    schema = SPEC["paths"][path][method]["responses"]["200"]["content"]["application/json"]
    validator = Draft202012Validator({**schema["schema"], "components": SPEC["components"]})
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]
    assert not errors, errors[:5]


# Three Kokoro previews take several seconds each on a busy two-core machine.
DESIGN_TIMEOUT = 600


def design(server, description: str, **fields) -> dict:
    response = requests.post(
        server.base_url + "/v1/text-to-voice/design",
        json={"voice_description": description, "text": TEXT, "seed": 7, **fields},
        timeout=DESIGN_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.json()


def median_pitch(samples: np.ndarray, rate: int) -> float:
    import parselmouth

    sound = parselmouth.Sound(samples.astype("float64"), sampling_frequency=rate)
    frequencies = sound.to_pitch().selected_array["frequency"]
    return float(np.median(frequencies[frequencies > 0]))


def words_per_minute(samples: np.ndarray, rate: int, text: str) -> float:
    """Words of ``text`` per minute of the audio from its first to its last sound."""
    loud = np.flatnonzero(np.abs(samples) > 0.02 * np.max(np.abs(samples)))
    seconds = (loud[-1] - loud[0]) / rate
    return len(re.findall(r"\w+", text)) / seconds * 60


@pytest.fixture(scope="module")
def deep_and_bright(server) -> tuple[dict, dict]:
    return design(server, DEEP), design(server, BRIGHT)


@pytest.fixture(scope="module")
def deep_and_bright_without_kokoro(tmp_path_factory) -> tuple[dict, dict]:
    """The same designs on a server whose Kokoro assets are missing (Joe and espeak-ng)."""
    from xiwidgets.server import start_in_thread

    with (
        without_kokoro(tmp_path_factory.mktemp("no-kokoro")),
        start_in_thread(data_dir=tmp_path_factory.mktemp("server")) as plain,
    ):
        return design(plain, DEEP), design(plain, BRIGHT)


@pytest.fixture(params=["kokoro", "joe-and-espeak"])
def designs(request) -> tuple[dict, dict]:
    if request.param == "kokoro":
        if check_assets().assets is None:
            pytest.skip("the Kokoro assets are not installed")
        return request.getfixturevalue("deep_and_bright")
    return request.getfixturevalue("deep_and_bright_without_kokoro")


def test_deep_slow_male_measures_lower_and_slower_than_bright_fast_female(designs):
    measured = {}
    for name, answer in zip(("deep", "bright"), designs, strict=True):
        assert len(answer["previews"]) == 3
        pitches, rates = [], []
        for preview in answer["previews"]:
            samples, rate = decode_audio(base64.b64decode(preview["audio_base_64"]))
            assert preview["duration_secs"] == pytest.approx(len(samples) / rate, abs=0.1)
            pitches.append(median_pitch(samples, rate))
            rates.append(words_per_minute(samples, rate, answer["text"]))
        measured[name] = (pitches, rates)
    deep_pitch, deep_rate = measured["deep"]
    bright_pitch, bright_rate = measured["bright"]
    # Every deep preview is below every bright one, in pitch and in pace.
    assert max(deep_pitch) < min(bright_pitch), measured
    assert max(deep_rate) < min(bright_rate), measured


def test_design_answer_conforms_and_previews_differ(designs):
    answer = designs[0]
    assert_conforms(answer, "/v1/text-to-voice/design")
    assert answer["text"] == TEXT
    ids = {preview["generated_voice_id"] for preview in answer["previews"]}
    audio = {preview["audio_base_64"] for preview in answer["previews"]}
    assert len(ids) == 3 and len(audio) == 3
    assert {preview["media_type"] for preview in answer["previews"]} == {"audio/mpeg"}


def test_a_preview_streams_and_an_unknown_id_is_a_404(server):
    answer = design(server, BRIGHT, stream_previews=True)
    generated_voice_id = answer["previews"][0]["generated_voice_id"]
    streamed = get(server, f"/v1/text-to-voice/{generated_voice_id}/stream")
    assert streamed.status_code == 200
    assert streamed.headers["content-type"] == "audio/mpeg"
    samples, rate = decode_audio(streamed.content)
    assert len(samples) / rate > 2.0
    missing = get(server, "/v1/text-to-voice/notAPreviewId123/stream")
    assert missing.status_code == 404
    assert missing.json()["detail"]["status"] == "generated_voice_not_found"
    unsaved = post(server, "/v1/text-to-voice", json={
        "voice_name": "Nobody", "voice_description": "A voice that was never designed",
        "generated_voice_id": "notAPreviewId123",
    })
    assert unsaved.status_code == 404
    assert "design the voice again" in unsaved.json()["detail"]["message"].lower()


def test_saved_preview_is_a_generated_voice_for_every_route_and_survives_restart(
    server_factory,
):
    first = server_factory()
    answer = post(first, "/v1/text-to-voice/design", json={
        "voice_description": "An old British man with a deep voice",
        "text": TEXT, "stream_previews": True,
    }).json()
    assert [preview["audio_base_64"] for preview in answer["previews"]] == ["", "", ""]
    chosen = answer["previews"][1]["generated_voice_id"]
    body = {
        "voice_name": "Old Sailor",
        "voice_description": "An old British man with a deep voice",
        "generated_voice_id": chosen,
        "labels": {"use_case": "narration"},
    }
    saved = post(first, "/v1/text-to-voice", json=body)
    assert saved.status_code == 200, saved.text
    voice = saved.json()
    assert_conforms(voice, "/v1/text-to-voice")
    assert voice["category"] == "generated"
    assert voice["labels"] == {
        "gender": "male", "age": "old", "accent": "british", "language": "en",
        "use_case": "narration",
    }
    # A retried save (its answer lost) finds the same voice instead of making a copy.
    assert post(first, "/v1/text-to-voice", json=body).json()["voice_id"] == voice["voice_id"]
    listed = get(first, "/v1/voices").json()["voices"]
    assert [v["name"] for v in listed if v["category"] == "generated"] == ["Old Sailor"]
    data_dir = first.data_dir
    first.stop()

    again = server_factory(data_dir=data_dir)
    listed = get(again, "/v1/voices").json()["voices"]
    assert voice["voice_id"] in {v["voice_id"] for v in listed}
    for path in ("", "/stream", "/with-timestamps"):
        take = post(again, f"/v1/text-to-speech/{voice['voice_id']}{path}",
                    json={"text": "Ahoy there."})
        assert take.status_code == 200, (path, take.text)


def test_design_bills_the_text_once_and_keeps_no_history(server_factory, tmp_path):
    with without_kokoro(tmp_path):
        fresh = server_factory()
        before = character_count(fresh)
        answer = post(fresh, "/v1/text-to-voice/design", json={
            "voice_description": "A warm female narrator voice", "text": TEXT,
            "stream_previews": True,
        })
        assert answer.status_code == 200
        assert character_count(fresh) - before == len(TEXT)
        assert history_count(fresh) == 0
        preview = answer.json()["previews"][0]["generated_voice_id"]
        assert get(fresh, f"/v1/text-to-voice/{preview}/stream").status_code == 200
        assert character_count(fresh) - before == len(TEXT)


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"voice_description": "too short", "text": TEXT}, ["body", "voice_description"]),
        ({"voice_description": "x" * 1001, "text": TEXT}, ["body", "voice_description"]),
        ({"voice_description": DEEP, "text": "Far too short."}, ["body", "text"]),
        ({"voice_description": DEEP, "text": "word " * 201}, ["body", "text"]),
        ({"voice_description": DEEP}, ["body", "text"]),
        ({"voice_description": DEEP, "text": TEXT, "loudness": 2}, ["body", "loudness"]),
        ({"voice_description": DEEP, "text": TEXT, "model_id": "eleven_v3"}, ["body", "model_id"]),
    ],
)
def test_bad_design_input_is_a_422_and_bills_nothing(server, fields, location):
    before = character_count(server)
    response = post(server, "/v1/text-to-voice/design", json=fields)
    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["detail"]] == [location]
    assert character_count(server) == before


def test_design_past_the_quota_is_refused_and_bills_nothing(server_factory):
    small = server_factory(character_limit=50)
    response = post(small, "/v1/text-to-voice/design",
                    json={"voice_description": DEEP, "text": TEXT})
    assert response.status_code == 401
    assert response.json()["detail"]["status"] == "quota_exceeded"
    assert character_count(small) == 0


def test_reference_audio_is_refused_as_hosted_only(server):
    response = post(server, "/v1/text-to-voice/design", json={
        "voice_description": DEEP, "text": TEXT, "reference_audio_base64": "AAAA",
    })
    assert response.status_code == 400
    assert "hosted API" in response.json()["detail"]["message"]


def test_auto_generated_text_suits_the_description(server):
    answer = post(server, "/v1/text-to-voice/design", json={
        "voice_description": "A calm, soothing meditation guide", "auto_generate_text": True,
        "stream_previews": True,
    }).json()
    assert 100 <= len(answer["text"]) <= 1000
    assert "breath" in answer["text"]


def test_the_official_sdk_designs_streams_and_saves_unchanged(server_factory, tmp_path):
    elevenlabs_client = pytest.importorskip("elevenlabs.client")
    with without_kokoro(tmp_path):
        local = server_factory()
        sdk = elevenlabs_client.ElevenLabs(api_key="x", base_url=local.base_url)
        designed = sdk.text_to_voice.design(
            voice_description="A young American woman with a bright, lively voice",
            auto_generate_text=True, seed=11, output_format="mp3_22050_32",
        )
        assert len(designed.previews) == 3 and len(designed.text) >= 100
        first = designed.previews[0]
        samples, rate = decode_audio(base64.b64decode(first.audio_base_64))
        assert rate == 22050 and len(samples) / rate == pytest.approx(first.duration_secs, 0.05)
        streamed = b"".join(sdk.text_to_voice.preview.stream(first.generated_voice_id))
        assert len(decode_audio(streamed)[0]) > 0
        voice = sdk.text_to_voice.create(
            voice_name="Lively", voice_description="A young woman with a bright, lively voice",
            generated_voice_id=first.generated_voice_id,
        )
        assert voice.category == "generated" and voice.labels["gender"] == "female"
        audio = b"".join(sdk.text_to_speech.convert(voice_id=voice.voice_id, text="Hi there!"))
        assert len(decode_audio(audio)[0]) > 0
        assert voice.voice_id in {v.voice_id for v in sdk.voices.get_all().voices}


def test_a_kokoro_design_says_how_to_install_when_the_assets_are_gone(server, tmp_path):
    if check_assets().assets is None:
        pytest.skip("the Kokoro assets are not installed")
    answer = design(server, "A warm, calm female narrator", stream_previews=True)
    saved = requests.post(server.base_url + "/v1/text-to-voice", json={
        "voice_name": "Blend", "voice_description": "A warm, calm female narrator",
        "generated_voice_id": answer["previews"][0]["generated_voice_id"],
    }, timeout=DESIGN_TIMEOUT)
    assert saved.status_code == 200, saved.text
    with without_kokoro(tmp_path):
        take = post(server, f"/v1/text-to-speech/{saved.json()['voice_id']}",
                    json={"text": "Hello."})
    assert take.status_code == 404
    assert "xiwidgets voices install" in take.json()["detail"]["message"]


def test_loudness_sets_the_previews_level(server_factory, tmp_path):
    def level(answer: dict) -> float:
        samples, _ = decode_audio(base64.b64decode(answer["previews"][0]["audio_base_64"]))
        return 20 * np.log10(np.sqrt(np.mean(samples**2)))

    with without_kokoro(tmp_path):
        plain = server_factory()
        quiet = level(design(plain, BRIGHT, loudness=-1))
        middle = level(design(plain, BRIGHT, loudness=0))
        loud = level(design(plain, BRIGHT, loudness=1))
    assert quiet < middle - 5 and middle < loud - 2.5


def test_a_stream_left_unread_or_cut_keeps_no_synthesis_slot(server_factory, tmp_path):
    with without_kokoro(tmp_path):
        single = server_factory(max_concurrent_syntheses=1)
        slots = single.services.concurrency.synthesis_slots
        answer = design(single, DEEP, stream_previews=True)
        url = f"{single.base_url}/v1/text-to-voice/"
        for preview in answer["previews"][:2]:
            # Read the first bytes, read the rest separately; then read one byte and hang up.
            with requests.get(url + f"{preview['generated_voice_id']}/stream", stream=True,
                              timeout=60) as response:
                next(response.iter_content(1024))
                for _ in response.iter_content(65536):
                    pass
            with requests.get(url + f"{preview['generated_voice_id']}/stream", stream=True,
                              timeout=60) as response:
                response.raw.read(1)
        # With the only slot free, a design with audio goes through.
        assert len(design(single, BRIGHT)["previews"]) == 3
        assert slots.running == 0


def test_a_preview_stream_has_one_reader_thread_which_ends_when_the_client_leaves(
    server_factory, tmp_path, monkeypatch
):
    with without_kokoro(tmp_path):
        plain = server_factory()
        answer = design(plain, DEEP, stream_previews=True)
        started: list[threading.Thread] = []
        start = threading.Thread.start

        def recording_start(thread: threading.Thread) -> None:
            started.append(thread)
            start(thread)

        monkeypatch.setattr(threading.Thread, "start", recording_start)
        url = f"{plain.base_url}/v1/text-to-voice/"
        first, second = (preview["generated_voice_id"] for preview in answer["previews"][:2])

        streamed = get(plain, f"/v1/text-to-voice/{first}/stream")
        readers = [thread for thread in started if thread.name == "xiwidgets-preview-stream"]
        samples, _rate = decode_audio(streamed.content)
        assert len(samples) > 0
        # One thread waits for the first piece before the answer starts (an unknown id is a
        # 404), one reads all the rest: not one thread per piece.
        assert len(readers) == 2

        started.clear()
        with requests.get(url + f"{second}/stream", stream=True, timeout=60) as response:
            response.raw.read(1)
        readers = [thread for thread in started if thread.name == "xiwidgets-preview-stream"]
        assert readers
        for reader in readers:
            reader.join(timeout=60)
            assert not reader.is_alive(), "the reader of a stream nobody reads kept running"
