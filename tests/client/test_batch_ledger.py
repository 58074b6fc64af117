"""Batch rows as experiments: per-row model, seed and options, captions beside each file,
manifests and history carrying what made every take, batch items that play."""

from __future__ import annotations

import csv
import json

import pytest
import srt

from xiwidgets.client import Take


def _manifest(path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


ROWS = [{"text": "Seed one.", "seed": 1},
        {"text": "Seed one.", "seed": 2, "model_id": "eleven_flash_v2_5"},
        {"text": "Bonjour.", "seed": 1, "voice": "Camille", "options": {"language_code": "fr"}}]


@pytest.fixture(scope="module")
def run(server, tmp_path_factory):
    from xiwidgets.client import Client

    out = tmp_path_factory.mktemp("batch")
    with Client(base_url=server.base_url) as client:
        result = client.synthesize_many(ROWS, voice="Joe", out_dir=out, progress=False,
                                        output_format="pcm_16000", captions="srt")
        yield client, out, result


def test_rows_set_model_seed_and_options_and_the_manifest_keeps_them(run):
    client, out, result = run
    assert [i.status for i in result.items] == ["ok"] * 3
    manifest = _manifest(out / "manifest.csv")
    assert [r["seed"] for r in manifest] == ["1", "2", "1"]
    assert manifest[1]["model_id"] == "eleven_flash_v2_5"
    assert json.loads(manifest[2]["options"]) == {"language_code": "fr"}
    for row in manifest:
        assert 0 < float(row["time_to_first_byte"]) <= float(row["total_time"])
        assert client.history.get(row["history_item_id"]).model_id == (
            row["model_id"] or "eleven_multilingual_v2")
    # Same text, different seeds: different takes (the seed reached the server).
    assert (out / manifest[0]["file"]).read_bytes() != (out / manifest[1]["file"]).read_bytes()


def test_captions_are_written_beside_each_file(run):
    _, out, result = run
    for item in result.items:
        assert item.captions == item.file.replace(".pcm", ".srt")
        [cue] = list(srt.parse((out / item.captions).read_text()))
        assert cue.content == item.text and cue.end.total_seconds() <= item.duration


def test_a_rerun_skips_everything_and_keeps_the_ledger(run):
    client, out, first = run
    second = client.synthesize_many(ROWS, voice="Joe", out_dir=out, progress=False,
                                    output_format="pcm_16000", captions="srt")
    assert [i.status for i in second.items] == ["skipped"] * 3
    assert [(i.seed, i.request_id, i.captions, i.total_time) for i in second.items] == [
        (i.seed, i.request_id, i.captions, pytest.approx(i.total_time)) for i in first.items]
    # Asking for VTT captions now is a different result: the takes are made again.
    third = client.synthesize_many(ROWS[:1], voice="Joe", out_dir=out, progress=False,
                                   output_format="pcm_16000", captions="vtt")
    assert third.items[0].status == "ok" and (out / "0000.vtt").exists()


def test_batch_items_play_and_load_as_takes(run):
    item = run[2].items[0]
    take = item.take()
    assert isinstance(take, Take) and take.seed == 1 and take.text == "Seed one."
    assert take.samples.tolist() == item.samples.tolist() and item.sample_rate == 16000
    assert 'src="data:audio/wav;base64,' in item._repr_html_()
    assert item.request_id in item._repr_html_()


def test_history_dataframe_has_the_seed_and_timings_of_this_clients_takes(run):
    client, _, result = run
    frame = client.history.to_dataframe().set_index("history_item_id")
    for item in result.items:
        row = frame.loc[item.history_item_id]
        assert row["seed"] == item.seed
        assert row["total_time"] == pytest.approx(item.total_time)


def test_unknown_caption_format_fails_before_anything_is_billed(client, tmp_path):
    with pytest.raises(ValueError, match="srt, vtt"):
        client.synthesize_many(["x"], voice="Joe", out_dir=tmp_path, captions="ass",
                               progress=False)
    assert not (tmp_path / "manifest.csv").exists()
