"""A number too long for words is left as written, not a 500.

``num2words`` says integers below about 10^306 (each language its own limit), and Python
refuses to read an integer of more than 4,300 digits at all; a take whose text held such a
number (a pasted hash, a long digit string) failed with an internal server error when
normalization was on. Now such a number is spoken as with normalization off, and the rest of
the text is still normalized.
"""

from __future__ import annotations

import pytest

from tests.server.helpers import post, voice_id_named
from xiwidgets.server.normalization import normalize


@pytest.mark.parametrize(("voice", "before", "said_before", "digits"), [
    ("Joe", "I have 3 cats and ", "I have three cats and ", "9" * 400),
    # German num2words goes further than English; Python's integer limit stops it too.
    ("Greta", "Ich habe 3 Katzen und ", "Ich habe drei Katzen und ", "7" * 4_400),
], ids=["english-past-num2words", "german-past-int-digits"])
def test_a_take_with_a_number_too_long_for_words_is_spoken(server, voice, before, said_before,
                                                           digits):
    text = f"{before}{digits}."
    voice_id = voice_id_named(server, voice)
    response = post(server, f"/v1/text-to-speech/{voice_id}/with-timestamps",
                    json={"text": text, "apply_text_normalization": "on"})
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert "".join(body["alignment"]["characters"]) == text
    assert "".join(body["normalized_alignment"]["characters"]) == f"{said_before}{digits}."
    assert int(response.headers["character-cost"]) == len(text)


@pytest.mark.parametrize("written", [
    "7" * 4_400, "-" + "9" * 5_000, "the " + "9" * 400 + "th", "$" + "9" * 400,
    "$" + "9" * 4_400 + ".50", "9" * 400 + "%", "9" * 400 + " km",
])
def test_every_kind_of_number_too_long_for_words_is_left_as_written(written):
    assert normalize(f"Read {written} and 2 more.").spoken == f"Read {written} and two more."
