"""The Kokoro voices in the catalog: labels that filter, stable ids, offered only when installed."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from xiwidgets.server import catalog
from xiwidgets.server.engines.kokoro_assets import ASSETS_ENV, VOICE_SHA256, check_assets
from xiwidgets.server.engines.kokoro_engine import ENGINE

KOKORO = catalog.KOKORO_VOICES


def test_41_kokoro_voices_in_six_languages_without_japanese_or_mandarin():
    assert len(KOKORO) == 41
    languages = Counter(voice.spec.language for voice in KOKORO)
    assert languages == {"en": 28, "es": 3, "fr": 1, "hi": 4, "it": 2, "pt": 3}
    engine_voices = {voice.spec.engine_voice for voice in KOKORO}
    assert engine_voices <= set(VOICE_SHA256)
    assert set(VOICE_SHA256) - engine_voices == {
        name for name in VOICE_SHA256 if name[0] in "jz"
    }


def test_ids_are_unique_20_characters_and_published_ones_stay():
    ids = [voice.voice_id for voice in catalog.PREMADE_VOICES]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9]{20}", voice.voice_id) for voice in KOKORO)
    names = [voice.name.lower() for voice in catalog.PREMADE_VOICES]
    assert len(set(names)) == len(names)
    # Notebooks store voice ids: these must never change.
    heart = catalog.get_premade_voice("J1lX1HTTDOJVNS3LJY3h")
    george = catalog.get_premade_voice("muATnWOb5Er1wMFKcukR")
    assert (heart.spec.engine_voice, george.spec.engine_voice) == ("af_heart", "bm_george")


def test_labels_follow_the_voice_and_make_the_picker_filters_useful():
    for voice in KOKORO:
        name = voice.spec.engine_voice
        assert voice.labels["gender"] == {"f": "female", "m": "male"}[name[1]]
        assert voice.labels["language"] == voice.spec.language
        assert voice.labels["age"] in {"young", "middle_aged", "old"}
        assert voice.description.endswith(".") and "neural" in voice.description
        assert voice.name in voice.preview_text
    english = [voice for voice in KOKORO if voice.spec.language == "en"]
    by_accent = Counter((v.labels["accent"], v.labels["gender"]) for v in english)
    assert by_accent == {("american", "female"): 11, ("american", "male"): 9,
                         ("british", "female"): 4, ("british", "male"): 4}
    # Every filter value narrows the list without emptying it.
    for key in ("age", "use_case"):
        values = Counter(voice.labels[key] for voice in KOKORO)
        assert len(values) >= 3 and max(values.values()) < len(KOKORO) / 2


def test_without_assets_only_joe_and_espeak_are_offered_and_kokoro_ids_say_how_to_install(
    tmp_path, monkeypatch
):
    monkeypatch.setenv(ASSETS_ENV, str(tmp_path))
    offered = catalog.premade_voices()
    assert [voice.spec.engine for voice in offered].count("kokoro") == 0
    assert {"Joe", "Riley"} <= {voice.name for voice in offered}
    message = catalog.unavailable_voice_message(KOKORO[0].voice_id)
    assert KOKORO[0].name in message and "`xiwidgets voices install`" in message
    assert catalog.unavailable_voice_message("WK59PFkl0JfI2yyVlbPe") is None  # Joe speaks
    assert catalog.unavailable_voice_message("no-such-voice") is None


@pytest.mark.skipif(check_assets().assets is None, reason="Kokoro assets not installed")
def test_with_assets_every_kokoro_voice_is_offered():
    offered = {voice.voice_id for voice in catalog.premade_voices()}
    assert {voice.voice_id for voice in KOKORO} <= offered
    assert all(catalog.unavailable_voice_message(v.voice_id) is None for v in KOKORO)


def test_the_model_list_says_which_voices_serve_each_model():
    for model in catalog.MODELS:
        assert "Kokoro" in model.description and "Joe" in model.description
    english_only = catalog.get_model("eleven_flash_v2")
    siwis = next(voice for voice in KOKORO if voice.spec.engine_voice == "ff_siwis")
    assert english_only.voice_spec_for(siwis.spec).engine_voice == ENGINE.voices["en"]
    assert catalog.get_model("eleven_multilingual_v2").voice_spec_for(siwis.spec) == siwis.spec
