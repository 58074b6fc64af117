"""Voices added from samples are built on the nearest Kokoro voice, and say so."""

from __future__ import annotations

import pytest

from tests.server.helpers import delete, get, post, voice_id_named, wav_sample
from xiwidgets.server.catalog import KOKORO_VOICES
from xiwidgets.server.engines.kokoro_assets import ASSETS_ENV, check_assets

needs_kokoro = pytest.mark.skipif(
    check_assets().assets is None, reason="Kokoro assets not installed (xiwidgets voices install)"
)
SAMPLE = "The quick brown fox jumps over the lazy dog, and then it rests in the warm sun."


def _added(server, sample: bytes, **form) -> dict:
    response = post(server, "/v1/voices/add", data={"name": "From samples", **form},
                    files=[("files", ("s.wav", sample))])
    assert response.status_code == 200, response.text
    return get(server, f"/v1/voices/{response.json()['voice_id']}").json()


@needs_kokoro
def test_a_low_male_and_a_high_female_sample_name_different_kokoro_bases(server):
    names = {v.name for v in KOKORO_VOICES if v.spec.language == "en"}
    bases = {}
    for speaker in ("Joe", "Riley"):
        voice = _added(server, wav_sample(server, voice_id_named(server, speaker), SAMPLE))
        description = voice["description"]
        assert description.startswith("Made from your samples: ") and "(Kokoro " in description
        base = description.removeprefix("Made from your samples: ").split(" (Kokoro")[0]
        assert base in names
        assert "× its pitch" in description and "× its speaking rate" in description
        take = post(server, f"/v1/text-to-speech/{voice['voice_id']}", json={"text": "Hello."})
        assert take.status_code == 200
        bases[speaker] = base
        delete(server, f"/v1/voices/{voice['voice_id']}")
    assert bases["Joe"] != bases["Riley"]
    genders = {v.name: v.labels["gender"] for v in KOKORO_VOICES}
    assert (genders[bases["Joe"]], genders[bases["Riley"]]) == ("male", "female")


def test_a_description_given_is_kept_and_without_kokoro_the_base_is_joe_or_espeak(
    server_factory, monkeypatch, tmp_path
):
    monkeypatch.setenv(ASSETS_ENV, str(tmp_path / "none"))
    server = server_factory()
    sample = wav_sample(server, voice_id_named(server, "Joe"), SAMPLE)
    described = _added(server, sample)["description"]
    assert described.startswith("Made from your samples: Joe (Piper en_US-joe-medium)")
    assert _added(server, sample, description="Mine")["description"] == "Mine"
