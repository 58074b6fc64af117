"""Premade voices and models: complete, consistent, and every voice actually speaks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from engine_voices import needs_kokoro_assets

from xiwidgets.server.audio import speech_rms
from xiwidgets.server.catalog import (
    DEFAULT_MODEL_ID,
    MODELS,
    PREMADE_VOICES,
    get_model,
    get_premade_voice,
    model_list,
    preview_text,
)
from xiwidgets.server.engines import SynthesisSettings

SPEC_PATH = Path(__file__).resolve().parents[3] / "shared/reference/elevenlabs-openapi-subset.json"
LABEL_KEYS = {"accent", "gender", "age", "language", "use_case", "description"}


def test_at_least_ten_voices_over_six_languages_with_both_genders():
    assert len(PREMADE_VOICES) >= 10
    assert len({voice.spec.language for voice in PREMADE_VOICES}) >= 6
    assert {voice.labels["gender"] for voice in PREMADE_VOICES} == {"male", "female"}


def test_voice_ids_are_unique_20_character_alphanumerics_and_names_unique():
    ids = [voice.voice_id for voice in PREMADE_VOICES]
    assert all(re.fullmatch(r"[A-Za-z0-9]{20}", voice_id) for voice_id in ids)
    assert len(set(ids)) == len(ids)
    names = [voice.name.lower() for voice in PREMADE_VOICES]
    assert len(set(names)) == len(names)


def test_joe_keeps_its_published_id():
    # Notebooks store voice ids: changing one breaks them.
    joe = get_premade_voice("WK59PFkl0JfI2yyVlbPe")
    assert joe is not None and joe.name == "Joe" and joe.spec.engine == "piper"
    assert get_premade_voice("no-such-voice") is None


def _preview_voices() -> list:
    """Every voice, but only one Kokoro voice per language and gender.

    The Kokoro voices are one model with another style vector each (every vector is checked
    against its digest at install): a few of them speaking keeps this test short.
    """
    chosen, seen = [], set()
    for voice in PREMADE_VOICES:
        if not voice.needs_kokoro_assets:
            chosen.append(pytest.param(voice, id=voice.name))
        elif (voice.spec.language, voice.labels["gender"]) not in seen:
            seen.add((voice.spec.language, voice.labels["gender"]))
            chosen.append(pytest.param(voice, id=voice.name, marks=needs_kokoro_assets))
    return chosen


@pytest.mark.parametrize("voice", _preview_voices())
def test_every_voice_has_labels_and_speaks_its_preview(synthesizer, voice):
    assert set(voice.labels) == LABEL_KEYS
    assert voice.labels["language"] == voice.spec.language
    assert voice.description and voice.preview_text
    assert DEFAULT_MODEL_ID in voice.high_quality_base_model_ids
    chunks = list(synthesizer.synthesize(voice.preview_text, voice.spec, SynthesisSettings(seed=0)))
    pcm = np.concatenate([chunk.pcm for chunk in chunks]).astype(np.float32) / 32768
    assert len(pcm) / chunks[0].sample_rate > 1.0
    assert speech_rms(pcm) > 0.05


def test_preview_text_for_added_voices_follows_the_language():
    assert preview_text("fr") != preview_text("en")
    assert preview_text("xx") == preview_text("en")


def test_models_list_the_ids_hosted_code_sends_with_reference_limits():
    limits = {model["model_id"]: model["maximum_text_length_per_request"] for model in model_list()}
    assert limits == {
        "eleven_multilingual_v2": 10_000, "eleven_v3": 3_000, "eleven_flash_v2_5": 40_000,
        "eleven_turbo_v2_5": 40_000, "eleven_flash_v2": 30_000, "eleven_turbo_v2": 30_000,
        "eleven_monolingual_v1": 10_000, "eleven_multilingual_v1": 10_000,
    }
    assert model_list()[0]["model_id"] == DEFAULT_MODEL_ID == "eleven_multilingual_v2"
    assert get_model("eleven_nonexistent") is None


def test_flash_and_turbo_cost_half():
    for model in model_list():
        fast = "flash" in model["model_id"] or "turbo" in model["model_id"]
        assert model["model_rates"]["character_cost_multiplier"] == (0.5 if fast else 1.0)


def test_english_only_models_read_other_voices_with_english_rules():
    camille = next(v for v in PREMADE_VOICES if v.name == "Camille")
    english = get_model("eleven_flash_v2").voice_spec_for(camille.spec)
    assert (english.engine_voice, english.language, english.variant) == ("en-us", "en", "f4")
    assert get_model("eleven_multilingual_v2").voice_spec_for(camille.spec) == camille.spec


def test_models_without_style_or_speaker_boost_drop_them():
    settings = SynthesisSettings(style=0.8, use_speaker_boost=True)
    flash = get_model("eleven_flash_v2_5").effective_settings(settings)
    assert (flash.style, flash.use_speaker_boost) == (0.0, False)
    assert get_model("eleven_multilingual_v2").effective_settings(settings) == settings


def test_model_languages_are_spoken_by_some_premade_voice():
    spoken = {voice.spec.language for voice in PREMADE_VOICES}
    for model in MODELS:
        assert set(model.languages) <= spoken


def test_models_validate_against_the_official_schema():
    if not SPEC_PATH.exists():
        pytest.skip("shared/reference/elevenlabs-openapi-subset.json is not present")
    import jsonschema

    spec = json.loads(SPEC_PATH.read_text())
    schema = {"$ref": "#/components/schemas/ModelResponseModel", "components": spec["components"]}
    for model in model_list():
        jsonschema.validate(model, schema)
        json.dumps(model)


def test_every_voice_has_its_own_engine_voice():
    assert len({voice.spec for voice in PREMADE_VOICES}) == len(PREMADE_VOICES)
