"""A hosted voice may come without a name: the widgets that list voices show its id instead.

The local server always names its voices, so the hosted API is replayed with ``responses``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses

from xiwidgets.client import Client
from xiwidgets.widgets.history import HistoryTable
from xiwidgets.widgets.maker import VoiceMaker

HOSTED = "https://api.elevenlabs.io"
UNNAMED_ID = "b7Vq1ZcUnnamedVoice01"
VOICES = {
    "voices": [
        {"voice_id": "21m00Tcm4TlvDq8ikWAM", "name": "Rachel", "category": "cloned"},
        {"voice_id": UNNAMED_ID, "name": None, "category": "cloned"},
    ]
}


@pytest.fixture
def hosted() -> Iterator[Client]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as api:
        api.get(f"{HOSTED}/v1/voices", json=VOICES)
        api.get(f"{HOSTED}/v1/history", json={"history": [], "has_more": False})
        with Client(api_key="xi-test-key-unnamed-voices") as client:
            yield client


def test_history_voice_filter_offers_an_unnamed_voice_by_its_id(
    frontend: Any, hosted: Client
) -> None:
    table = HistoryTable(client=hosted)

    assert table.last_error is None, table.error_card.text
    assert (UNNAMED_ID, UNNAMED_ID) in table.voice_filter.options
    assert ("Rachel", "21m00Tcm4TlvDq8ikWAM") in table.voice_filter.options


def test_voice_maker_offers_an_unnamed_voice_for_deletion_by_its_id(
    frontend: Any, hosted: Client
) -> None:
    maker = VoiceMaker(client=hosted)

    assert maker.last_error is None, maker.error_card.text
    assert list(maker.delete_picker.options) == [
        (UNNAMED_ID, UNNAMED_ID), ("Rachel", "21m00Tcm4TlvDq8ikWAM"),
    ]
