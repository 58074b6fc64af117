"""A studio take is a notebook object like any take: it plays, and its samples are data."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from xiwidgets.widgets.studio import Studio

pytestmark = pytest.mark.timeout(180)


def test_a_studio_take_plays_as_a_cell_value_and_decodes(frontend: Any, client: Any) -> None:
    # policy="none": the Studio keeps no card, so the take itself is the cell's player (a take
    # the Studio saved names that card instead: tests/widgets/test_studio.py).
    studio = Studio(client=client, voice="Joe", policy="none")
    take = studio.speak("The studio's take, as data.", wait=True)

    html = take._repr_html_()
    match = re.search(r'src="data:audio/mpeg;base64,([^"]+)"', html)
    assert match and base64.b64decode(match.group(1)) == take.audio  # kept compressed
    assert take.request_id in html and f"{take.character_cost:,} characters billed" in html
    assert take.sample_rate == 44100 and take.samples.ndim == 1
    assert len(take.samples) / take.sample_rate == pytest.approx(take.duration, abs=0.1)
