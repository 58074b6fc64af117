"""Reading a voice description (no server): the words' traits and the previews' voice specs."""

from __future__ import annotations

import pytest

from xiwidgets.server.voice_description import parse_description
from xiwidgets.server.voice_design import DesignOptions, design_specs


@pytest.mark.parametrize(
    ("description", "gender", "age", "accent"),
    [
        ("A deep, slow male voice", "male", None, None),
        ("An elderly British gentleman reading the news", "male", "old", "british"),
        ("A young woman from California, American accent", "female", "young", "american"),
        ("Middle aged lady, posh London accent", "female", "middle_aged", "british"),
        ("A friendly narrator", None, None, None),
    ],
)
def test_gender_age_and_accent_words(description, gender, age, accent):
    traits = parse_description(description)
    assert (traits.gender, traits.age, traits.accent) == (gender, age, accent)


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("a deep voice", "a bright voice"),
        ("a low-pitched voice", "a high pitched voice"),
        ("a slightly deep voice", "a neutral voice"),
        ("a very deep voice", "a deep voice"),
        ("an old man", "a young man"),
        ("a bass voice", "not a bass voice"),
    ],
)
def test_pitch_words_order_the_pitch(lower, higher):
    assert parse_description(lower).pitch < parse_description(higher).pitch


@pytest.mark.parametrize(
    ("slower", "faster"),
    [
        ("slow and calm", "fast and excited"),
        ("a relaxed storyteller", "a storyteller"),
        ("a voice, not too fast", "a fast-talking voice"),
        ("a fast voice, not deep", "a very fast voice"),
    ],
)
def test_pace_words_order_the_pace(slower, faster):
    assert parse_description(slower).pace < parse_description(faster).pace


def test_a_negation_stops_at_punctuation():
    traits = parse_description("A young woman, not too fast, high pitched")
    assert traits.pace < 0.6 and traits.pitch >= 0.7
    assert "fast" not in traits.words and "high-pitched" in traits.words


def test_the_seed_repeats_a_design_and_the_three_previews_differ():
    traits = parse_description("A deep, warm male narrator")
    first = design_specs(traits, DesignOptions(), seed=4)
    assert design_specs(traits, DesignOptions(), seed=4) == first
    assert design_specs(traits, DesignOptions(), seed=5) != first
    assert len(set(first)) == 3
    assert all(spec.pitch_factor < 1 for spec in first)


def test_a_higher_guidance_keeps_the_previews_closer_to_the_description():
    traits = parse_description("A fast female voice")
    loose = design_specs(traits, DesignOptions(guidance_scale=1), seed=9)
    strict = design_specs(traits, DesignOptions(guidance_scale=100), seed=9)

    def spread(specs):
        return max(s.pitch_factor for s in specs) - min(s.pitch_factor for s in specs)

    assert spread(strict) < spread(loose)
