"""QuotaMeter against real local servers (one with a small character limit)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from xiwidgets.client import Client
from xiwidgets.client.errors import ConnectionFailed
from xiwidgets.widgets.quota import QuotaMeter

pytestmark = pytest.mark.timeout(60)


def test_shows_the_subscriptions_numbers(frontend: Any, client: Any) -> None:
    meter = QuotaMeter(client=client)
    bar = frontend.find(meter, "xi-quota-bar")
    label = frontend.find(meter, "xi-quota-label")

    subscription = client.user.subscription()
    assert (meter.character_count, meter.character_limit) == (
        subscription.character_count, subscription.character_limit)
    assert (bar.value, bar.max) == (subscription.character_count, subscription.character_limit)
    assert f"{subscription.characters_left:,} left" in label.value
    if subscription.next_character_count_reset_unix:
        day = dt.datetime.fromtimestamp(subscription.next_character_count_reset_unix,
                                        tz=dt.timezone.utc).strftime("%Y-%m-%d")
        assert f"resets on {day}" in label.value


def test_refresh_after_a_take_counts_its_characters(frontend: Any, server_factory: Any) -> None:
    small = server_factory(character_limit=500)
    client = Client(base_url=small.base_url)
    meter = QuotaMeter(client=client)
    assert (meter.character_count, meter.character_limit) == (0, 500)

    take = client.tts.convert(client.voices.list()[0].voice_id, text="Twenty-six characters. Ok")
    meter.refresh()

    assert meter.character_count == take.character_cost > 0
    assert meter.characters_left == 500 - take.character_cost
    assert {"character_count": take.character_cost} in frontend.updates(meter)


def test_unreachable_server_is_shown_on_the_card(frontend: Any) -> None:
    meter = QuotaMeter(client=Client(base_url="http://127.0.0.1:9", max_retries=0))

    assert isinstance(meter.last_error, ConnectionFailed)
    assert frontend.is_shown(meter, meter.error_card)
    assert "Could not reach" in meter.error_card.text
