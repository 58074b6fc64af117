"""Sweeps on the real local server: one batch, a table to listen and rate, resume, bad grids."""

from __future__ import annotations

import pytest

from xiwidgets.experiments import SweepGrid, sweep

TEXT = "A sweep of settings."
GRID = {"speed": [0.8, 1.1], "seed": [1, 2]}


def _used(client) -> int:
    return client.user.subscription().character_count


@pytest.fixture(scope="module")
def grid(client, tmp_path_factory) -> SweepGrid:
    return sweep(TEXT, voice="Joe", grid=GRID, metrics=["duration", "wer"], client=client,
                 out_dir=tmp_path_factory.mktemp("sweep"), progress=False)


def test_every_cell_is_a_take_made_with_its_parameters(grid):
    assert grid.last_error is None and [i.status for i in grid.items] == ["ok"] * 4
    results = grid.results
    assert list(results[["speed", "seed"]].itertuples(index=False, name=None)) == [
        (0.8, 1), (0.8, 2), (1.1, 1), (1.1, 2)]
    for index, row in results.iterrows():
        take = grid.take(index)
        assert take.seed == row["seed"] and take.voice_settings.speed == row["speed"]
        assert row["duration"] == pytest.approx(take.duration) and row["wer"] <= 0.2
        assert grid.take(index) is take  # loaded, and so decoded, once
    slow, fast = results.groupby("speed")["duration"].mean()
    assert slow > fast * 1.15
    assert grid.take(0).audio != grid.take(1).audio  # the seeds reached the server


def test_the_table_has_a_player_figures_a_rating_and_a_pick_per_cell(grid):
    table = grid._table.children
    assert len(table) == 5 * (1 + len(grid.cells))
    row = table[5:10]
    assert ">speed=0.8</span>" in row[0].value and ">seed=1</span>" in row[0].value
    assert "<audio" in row[1].value
    assert "WER" in row[2].value and row[3].options[5][0] == "★★★★★"


def test_ratings_from_the_widgets_are_kept_and_rank_the_cells(grid):
    stars, pick = grid._controls(2)
    stars.value = 5  # what a click does
    pick.value = True
    grid.rate(1, 3)
    heard = []
    grid.on_rating(lambda *args: heard.append(args))
    grid.pick(1)

    assert list(grid.results["rating"]) == [0, 3, 5, 0]
    assert list(grid.results["pick"]) == [False, True, True, False]
    assert heard == [(1, 3, True)]
    assert grid.best(by="rating").seed == 1 and grid.best(by="rating") is grid.take(2)
    assert grid.best(by="wer") is grid.take(int(grid.results["wer"].idxmin()))
    with pytest.raises(ValueError, match="0 \\(none\\) to 5"):
        grid.rate(0, 6)
    with pytest.raises(ValueError, match="rank by one of wer, dnsmos, rating"):
        grid.best(by="pitch")


def test_the_same_sweep_again_bills_nothing_and_keeps_figures_and_ratings(grid, client):
    used = _used(client)
    again = sweep(TEXT, voice="Joe", grid=GRID, metrics=["duration", "wer"], client=client,
                  out_dir=grid.out_dir, progress=False)
    assert [i.status for i in again.items] == ["skipped"] * 4 and _used(client) == used
    assert again.results.drop(columns=["status"]).equals(grid.results.drop(columns=["status"]))


def test_any_request_parameter_is_an_axis(client, tmp_path):
    other = sweep(grid={"voice": ["Joe", "Amelia"], "text": ["One.", "Two words."],
                        "model_id": ["eleven_flash_v2_5"], "language_code": ["en"]},
                  evaluate=False, client=client, out_dir=tmp_path, progress=False)
    assert [i.status for i in other.items] == ["ok"] * 4
    for index, row in other.results.iterrows():
        take = other.take(index)
        assert take.text == row["text"] and take.model_id == "eleven_flash_v2_5"
        assert take.voice_name == row["voice"] and row["voice"] in take._repr_html_()
        assert take.options == {"language_code": "en"}
        item = client.history.get(take.history_item_id)
        assert item.voice_name == row["voice"] and item.model_id == "eleven_flash_v2_5"
    assert "wer" not in other.results


def test_the_output_format_is_an_axis(client, tmp_path):
    formats = ["mp3_44100_64", "pcm_16000", "opus_48000_64", "ulaw_8000"]
    by_format = sweep(TEXT, voice="Joe", grid={"output_format": formats, "seed": [3]},
                      metrics=["duration"], client=client, out_dir=tmp_path, progress=False)
    assert [i.status for i in by_format.items] == ["ok"] * 4
    results = by_format.results
    assert list(results["output_format"]) == formats
    assert [name.rsplit(".", 1)[1] for name in results["file"]] == ["mp3", "pcm", "opus", "ulaw"]
    rates = [by_format.take(index).sample_rate for index in range(4)]
    assert rates == [44100, 16000, 48000, 8000]
    for index, item in enumerate(by_format.items):
        assert item.output_format == formats[index]
    # One take in four encodings: the same length, whatever the codec.
    assert max(results["duration"]) - min(results["duration"]) < 0.1
    again = sweep(TEXT, voice="Joe", grid={"output_format": formats, "seed": [3]},
                  metrics=["duration"], client=client, out_dir=tmp_path, progress=False)
    assert [i.status for i in again.items] == ["skipped"] * 4


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"grid": {}}, "The grid is empty"),
    ({"grid": {"stabilty": [0.5]}}, "'stabilty' is not a request parameter: grid axes are"),
    ({"grid": {"output_format": ["pcm_16000", "flac_48000"]}},
     "Unsupported output_format 'flac_48000'. Accepted values: mp3_22050_32"),
    ({"grid": {"seed": []}}, "'seed' has no values"),
    ({"grid": {"seed": "12"}}, "needs a list of values"),
    ({"grid": {"seed": range(201)}}, "201 cells, more than 200.*max_cells=201"),
    ({"grid": {"seed": [1, 2, 3, 4]}, "max_cells": 3}, "more than 3"),
    ({"grid": {"seed": [1]}, "metrics": ["clarity"]}, "Unknown metric 'clarity'"),
    ({"grid": {"seed": [1]}, "voice": None}, "No voice to sweep"),
])
def test_bad_grids_fail_before_anything_is_billed(client, tmp_path, kwargs, message):
    used = _used(client)
    with pytest.raises(ValueError, match=message):
        sweep(TEXT, **{"voice": "Joe", **kwargs}, client=client, out_dir=tmp_path,
              progress=False)
    assert _used(client) == used and not any(tmp_path.iterdir())
