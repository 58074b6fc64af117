"""A cloned voice's samples: download one as uploaded, delete one (through its own voice only)."""

from __future__ import annotations

import numpy as np
import parselmouth
import pytest

from tests.server.helpers import decode_audio, delete, get, post, voice_id_named, wav_sample
from tests.server.reference import load_reference_spec, response_schema, schema_errors

elevenlabs_client = pytest.importorskip("elevenlabs.client")
from elevenlabs.core.api_error import ApiError  # noqa: E402

SPEC = load_reference_spec()
SAMPLE_PATH = "/v1/voices/{voice_id}/samples/{sample_id}"


def _median_pitch(audio: bytes) -> float:
    samples, rate = decode_audio(audio)
    pitch = parselmouth.Sound(samples.astype(np.float64), rate).to_pitch()
    voiced = pitch.selected_array["frequency"]
    return float(np.median(voiced[voiced > 0]))


@pytest.fixture
def cloned(server):
    """A voice cloned from a low (Joe) and a high (Amelia) recording: (voice id, sample ids)."""
    low = wav_sample(server, voice_id_named(server, "Joe"), "A low voice reads this sentence.")
    high = wav_sample(server, voice_id_named(server, "Amelia"), "A high voice reads this one.")
    files = [("files", ("low.wav", low, "audio/wav")), ("files", ("high.wav", high, "audio/wav"))]
    voice_id = post(server, "/v1/voices/add", data={"name": "Two samples"}, files=files).json()[
        "voice_id"
    ]
    samples = get(server, f"/v1/voices/{voice_id}").json()["samples"]
    yield voice_id, [sample["sample_id"] for sample in samples], (low, high)
    delete(server, f"/v1/voices/{voice_id}")


def test_the_official_sdk_downloads_a_sample_as_it_was_uploaded(server, cloned):
    voice_id, (low_id, high_id), (low, high) = cloned
    sdk = elevenlabs_client.ElevenLabs(api_key="x", base_url=server.base_url)
    assert b"".join(sdk.voices.samples.audio.get(voice_id, high_id)) == high
    response = get(server, f"{SAMPLE_PATH.format(voice_id=voice_id, sample_id=low_id)}/audio")
    assert response.content == low
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_deleting_a_sample_removes_it_and_measures_the_voice_again(server, cloned):
    voice_id, (low_id, high_id), _ = cloned
    text = {"text": "Measure the pitch of this voice now.", "seed": 1}
    before = _median_pitch(post(server, f"/v1/text-to-speech/{voice_id}", json=text).content)
    sdk = elevenlabs_client.ElevenLabs(api_key="x", base_url=server.base_url)
    answer = sdk.samples.delete(voice_id, high_id)
    assert answer.status == "ok"
    remaining = get(server, f"/v1/voices/{voice_id}").json()["samples"]
    assert [sample["sample_id"] for sample in remaining] == [low_id]
    gone = get(server, f"{SAMPLE_PATH.format(voice_id=voice_id, sample_id=high_id)}/audio")
    assert gone.status_code == 404
    assert gone.json()["detail"]["status"] == "sample_not_found"
    assert not list((server.data_dir / "samples" / voice_id).glob(f"{high_id}*"))
    after = _median_pitch(post(server, f"/v1/text-to-speech/{voice_id}", json=text).content)
    assert after < before * 0.85  # only the low recording is left to imitate


def test_a_sample_is_reached_only_through_its_own_voice(server, cloned):
    voice_id, (low_id, _), _ = cloned
    recording = wav_sample(server, voice_id_named(server, "Joe"),
                           "Another voice says this, and then it says a little more.")
    files = [("files", ("o.wav", recording))]
    other = post(server, "/v1/voices/add", data={"name": "Other"}, files=files).json()["voice_id"]
    try:
        path = SAMPLE_PATH.format(voice_id=other, sample_id=low_id)
        assert get(server, f"{path}/audio").status_code == 404
        refused = delete(server, path)
        assert refused.status_code == 404
        assert refused.json()["detail"]["status"] == "sample_not_found"
        own = get(server, f"/v1/voices/{voice_id}").json()["samples"]
        assert low_id in [sample["sample_id"] for sample in own]  # still there
    finally:
        delete(server, f"/v1/voices/{other}")


def test_unknown_voices_and_premade_voices_have_no_samples(server):
    sdk = elevenlabs_client.ElevenLabs(api_key="x", base_url=server.base_url)
    with pytest.raises(ApiError) as unknown:
        b"".join(sdk.voices.samples.audio.get("no-such-voice", "s"))
    assert unknown.value.status_code == 404
    assert unknown.value.body["detail"]["status"] == "voice_not_found"
    joe = voice_id_named(server, "Joe")
    premade = delete(server, SAMPLE_PATH.format(voice_id=joe, sample_id="anything"))
    assert premade.status_code == 404
    assert premade.json()["detail"]["status"] == "sample_not_found"


def test_a_wrong_key_reaches_no_sample(server_factory):
    keyed = server_factory(api_keys=["k"])
    path = SAMPLE_PATH.format(voice_id="v", sample_id="s")
    assert get(keyed, f"{path}/audio", headers={"xi-api-key": "bad"}).status_code == 401
    assert delete(keyed, path, headers={"xi-api-key": "bad"}).status_code == 401


@pytest.mark.skipif(SPEC is None, reason="official OpenAPI subset 2 not present")
def test_the_delete_answer_conforms_to_the_spec(server, cloned):
    voice_id, (low_id, _), _ = cloned
    answer = delete(server, SAMPLE_PATH.format(voice_id=voice_id, sample_id=low_id)).json()
    assert not schema_errors(SPEC, response_schema(SPEC, SAMPLE_PATH, "delete"), answer)
