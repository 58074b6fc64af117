"""Result types: lenient parsing, what they send back, how they print."""

from __future__ import annotations

import sys

import pytest

from xiwidgets.client import (
    Alignment,
    Client,
    HistoryPage,
    Model,
    ResponseInfo,
    Subscription,
    Take,
    Voice,
    VoiceSettings,
)


def test_voice_settings_to_dict_drops_unset_fields():
    assert VoiceSettings(stability=0.4, use_speaker_boost=False).to_dict() == {
        "stability": 0.4, "use_speaker_boost": False}
    parsed = VoiceSettings.from_dict({"stability": 0.5, "speed": None, "future": 2})
    assert parsed.speed is None and parsed.to_dict() == {"stability": 0.5, "future": 2}


def test_parsing_keeps_unknown_fields_and_tolerates_missing_ones():
    voice = Voice.from_dict({"voice_id": "v", "settings": {"speed": 1.1}, "is_bookmarked": True,
                             "samples": None})
    model = Model.from_dict({"model_id": "m", "languages": [{"language_id": "en"}]})

    assert voice.settings == VoiceSettings(speed=1.1) and voice.samples is None
    assert voice.extra == {"is_bookmarked": True} and voice.name is None
    assert model.languages == ({"language_id": "en"},) and model.extra == {}


def test_history_page_and_subscription():
    page = HistoryPage.from_dict({"history": [{"history_item_id": "h1",
                                               "character_count_change_from": 5,
                                               "character_count_change_to": 12}],
                                  "has_more": None, "scanned_until": 9})
    sub = Subscription.from_dict({"character_count": 120, "character_limit": 100})

    assert page.items[0].character_cost == 7 and page.has_more is False
    assert page.scanned_until == 9 and page.last_history_item_id is None
    assert sub.characters_left == 0


def test_websocket_alignment_is_converted_to_seconds():
    alignment = Alignment.from_websocket({"chars": ["H", "i"], "charStartTimesMs": [0, 80],
                                          "charsDurationsMs": [80, 120]})
    assert alignment.text == "Hi"
    assert alignment.character_start_times_seconds == (0.0, 0.08)
    assert alignment.character_end_times_seconds == (0.08, 0.2)
    assert Alignment.from_websocket(None) is None


def test_take_repr_is_short_and_headers_are_typed():
    info = ResponseInfo.from_headers({"request-id": "r", "character-cost": "12",
                                      "current-concurrent-requests": "x"})
    take = Take(b"\x00" * 100_000, info)

    assert take.character_cost == 12 and info.current_concurrent_requests is None
    assert "100000 bytes" in repr(take) and len(repr(take)) < 200


def test_to_dataframe_without_pandas_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        Client(base_url="http://127.0.0.1:9").history.to_dataframe()
