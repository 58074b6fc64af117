"""best_of: several seeds, scored, the best kept; bad requests fail before anything is billed."""

from __future__ import annotations

import pytest

from xiwidgets.client import TimedTake

TEXT = "Pick the clearest of these takes."


def _characters_used(client) -> int:
    return client.user.subscription().character_count


def test_the_best_of_three_seeds_is_the_lowest_word_error_rate(client):
    take, candidates = client.tts.best_of("Joe", text=TEXT, n=3, by="wer",
                                          metrics=["dnsmos"], output_format="pcm_16000")

    assert len(candidates) == 3 and candidates["seed"].is_unique
    assert {"wer", "transcript", "dnsmos", "request_id", "character_cost"} <= set(candidates)
    best = candidates[candidates["best"]]
    assert len(best) == 1 and best["wer"].iloc[0] == candidates["wer"].min()
    assert take.seed == best["seed"].iloc[0] and take.request_id == best["request_id"].iloc[0]
    assert take.text == TEXT and take.output_format == "pcm_16000"


def test_given_seeds_are_used_and_timed_takes_keep_their_words(client):
    take, candidates = client.tts.best_of("Joe", text=TEXT, seeds=[11, 12], by="dnsmos",
                                          timestamps=True, output_format="pcm_16000")

    assert sorted(candidates["seed"]) == [11, 12] and take.seed in (11, 12)
    assert isinstance(take, TimedTake) and take.words
    assert candidates.loc[candidates["best"], "dnsmos"].iloc[0] == candidates["dnsmos"].max()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n": 0}, "n must be a positive"),
    ({"n": -2}, "n must be a positive"),
    ({"by": "pitch"}, "use by= one of wer, dnsmos"),
    ({"by": "wer", "metrics": ["sharpness"]}, "Unknown metric 'sharpness'"),
    ({"seeds": [1, 1]}, "distinct"),
])
def test_bad_requests_fail_before_anything_is_billed(client, kwargs, message):
    used = _characters_used(client)
    with pytest.raises(ValueError, match=message):
        client.tts.best_of("Joe", text=TEXT, **kwargs)
    assert _characters_used(client) == used
