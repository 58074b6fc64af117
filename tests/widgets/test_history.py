"""HistoryTable against the real local server, driven like a browser would drive it.

Clicks and edits arrive as the comm messages the front end sends; what the user sees is read
back from the widgets' state. The tests share the session server, so every test works on takes
whose texts carry a token of its own and searches for that token.
"""

from __future__ import annotations

import html
import json
import uuid
import zipfile
from typing import Any

import pytest
import requests
from ipywidgets.widgets.widget import _instances as live_widgets

from xiwidgets.client.errors import NotFound
from xiwidgets.widgets.history import HistoryTable

pytestmark = pytest.mark.timeout(300)


def shown_rows(frontend: Any, table: HistoryTable) -> list[Any]:
    """The rows the browser renders, top to bottom."""
    return frontend.find_all(table, "xi-history-row")


def row_texts(frontend: Any, table: HistoryTable) -> list[str]:
    """The texts of the takes on the page, after checking each is in its row's cells."""
    rows = shown_rows(frontend, table)
    assert len(rows) == len(table.items)
    for row, item in zip(rows, table.items, strict=True):
        assert html.escape(item.text) in frontend.find(row, "xi-history-cells").value
    return [item.text for item in table.items]


def row_for(frontend: Any, table: HistoryTable, history_item_id: str) -> Any:
    """The row the browser shows for a take (rows follow ``item_ids``)."""
    assert history_item_id in table.item_ids, f"{history_item_id} is not on the page"
    row = shown_rows(frontend, table)[table.item_ids.index(history_item_id)]
    return row


def press(frontend: Any, row: Any, css_class: str) -> None:
    """Click the button of ``row`` that carries ``css_class``."""
    frontend.click(frontend.find(row, css_class))


@pytest.fixture(scope="module")
def client(server: Any) -> Any:
    from xiwidgets.client import Client

    return Client(base_url=server.base_url)


@pytest.fixture(scope="module")
def two_voices(client: Any) -> tuple[Any, Any]:
    # Two espeak-ng voices: they synthesize a short text in milliseconds.
    voices = [voice for voice in client.voices.list() if voice.name != "Joe"]
    assert len(voices) >= 2
    return voices[0], voices[1]


def speak(client: Any, text: str, voice: Any) -> str:
    take = client.tts.convert(voice.voice_id, text=text, output_format="mp3_22050_32")
    assert take.history_item_id
    return take.history_item_id


@pytest.fixture(scope="module")
def paged_takes(client: Any, two_voices: tuple[Any, Any]) -> dict[str, Any]:
    """26 short takes: 20 in the first voice, 6 in the second, all carrying one token."""
    token = f"pg{uuid.uuid4().hex[:8]}"
    first, second = two_voices
    ids = {}
    for number in range(26):
        voice = second if number % 4 == 0 and number < 24 else first
        text = f"Take {number} {token}."
        ids[speak(client, text, voice)] = (text, voice.voice_id)
    return {"token": token, "ids": ids, "second_voice": second}


def test_pages_come_one_at_a_time_with_back_and_next(
    frontend: Any, client: Any, paged_takes: dict,
) -> None:
    table = HistoryTable(client=client, page_size=10)
    frontend.set_state(table.search_box, value=paged_takes["token"])

    seen = []
    expected_sizes = [10, 10, 6]
    for page_number, size in enumerate(expected_sizes, start=1):
        assert len(shown_rows(frontend, table)) == size
        assert table.page_label.value.startswith(f"Page {page_number}")
        assert table.back_button.disabled == (page_number == 1)
        assert table.next_button.disabled == (page_number == 3)
        seen.append(list(table.item_ids))
        frontend.click(table.next_button)

    every_row = [item_id for page in seen for item_id in page]
    assert len(every_row) == len(set(every_row)) == 26  # no take shown twice
    assert set(every_row) == set(paged_takes["ids"])
    frontend.click(table.back_button)
    assert table.item_ids == seen[1]
    frontend.click(table.back_button)
    assert table.item_ids == seen[0]
    assert table.back_button.disabled


def test_paging_moves_the_tables_traits_and_syncs_only_ids_and_numbers(
    frontend: Any, client: Any, paged_takes: dict,
) -> None:
    table = HistoryTable(client=client, page_size=10)
    frontend.set_state(table.search_box, value=paged_takes["token"])
    pages = []
    table.observe(lambda change: pages.append((table.page_index, table.has_more,
                                               len(table.item_ids))), names="page_index")
    assert (table.page_index, table.has_more, len(table.items)) == (0, True, 10)

    frontend.click(table.next_button)
    frontend.click(table.next_button)
    frontend.click(table.next_button)  # on the last page: nothing to go to
    frontend.click(table.back_button)

    # Each change arrives whole: the new page's ids and has_more with its number.
    assert pages == [(1, True, 10), (2, False, 6), (1, True, 10)]
    assert table.item_ids == [item.history_item_id for item in table.items]
    updates = frontend.updates(table)
    last_page = next(update for update in updates if update.get("page_index") == 2)
    assert last_page["has_more"] is False and len(last_page["item_ids"]) == 6
    # The takes themselves (texts, settings) stay in Python.
    assert paged_takes["token"] not in json.dumps(updates)
    assert "items" not in table.get_state()


def test_page_size_chosen_in_the_widget(frontend: Any, client: Any, paged_takes: dict) -> None:
    table = HistoryTable(client=client, page_size=10)
    frontend.set_state(table.search_box, value=paged_takes["token"])
    frontend.click(table.next_button)
    frontend.set_state(table.page_size_picker, index=table.page_size_picker.options.index(25))
    assert table.page_label.value.startswith("Page 1")
    assert table.page_index == 0
    assert len(shown_rows(frontend, table)) == 25
    frontend.click(table.next_button)
    assert len(shown_rows(frontend, table)) == 1
    assert table.next_button.disabled and not table.has_more


def test_paging_reuses_the_row_widgets(frontend: Any, client: Any, paged_takes: dict) -> None:
    table = HistoryTable(client=client, page_size=10)
    frontend.set_state(table.search_box, value=paged_takes["token"])
    first_page_rows = shown_rows(frontend, table)
    frontend.click(table.next_button)
    frontend.click(table.back_button)
    widgets_after_one_round = len(live_widgets)
    for _ in range(3):
        frontend.click(table.next_button)
        frontend.click(table.next_button)
        frontend.click(table.back_button)
        frontend.click(table.back_button)
    assert len(live_widgets) == widgets_after_one_round
    assert shown_rows(frontend, table) == first_page_rows  # the same row widgets, refilled


def test_closing_the_table_releases_all_its_widgets(
    frontend: Any, client: Any, paged_takes: dict,
) -> None:
    before = len(live_widgets)
    table = HistoryTable(client=client, page_size=25)
    frontend.set_state(table.search_box, value=paged_takes["token"])
    frontend.click(table.next_button)  # the last page shows fewer rows than the pool holds
    assert len(live_widgets) > before
    table.close()
    assert len(live_widgets) == before


def test_search_narrows_the_rows(frontend: Any, client: Any, paged_takes: dict) -> None:
    table = HistoryTable(client=client)
    frontend.set_state(table.search_box, value=f"Take 13 {paged_takes['token']}")
    assert row_texts(frontend, table) == [f"Take 13 {paged_takes['token']}."]
    frontend.set_state(table.search_box, value=f"no such words {uuid.uuid4().hex}")
    assert shown_rows(frontend, table) == [] and table.item_ids == []
    assert "no takes" in table.page_label.value


def test_voice_filter_shows_only_that_voice(frontend: Any, client: Any, paged_takes: dict) -> None:
    second = paged_takes["second_voice"]
    table = HistoryTable(client=client, page_size=25)
    frontend.set_state(table.search_box, value=paged_takes["token"])
    values = [value for _, value in table.voice_filter.options]
    frontend.set_state(table.voice_filter, index=values.index(second.voice_id))
    expected = sorted(text for text, voice_id in paged_takes["ids"].values()
                      if voice_id == second.voice_id)
    assert len(expected) == 6
    assert sorted(row_texts(frontend, table)) == expected
    assert all(second.name in frontend.find(row, "xi-history-cells").value
               for row in shown_rows(frontend, table))


def test_delete_asks_first_and_deletes_on_confirm(
    frontend: Any, client: Any, server: Any, two_voices: tuple,
) -> None:
    token = f"del{uuid.uuid4().hex[:8]}"
    doomed = speak(client, f"Delete me {token}.", two_voices[0])
    kept = speak(client, f"Keep me {token}.", two_voices[0])
    table = HistoryTable(client=client)
    frontend.set_state(table.search_box, value=token)
    row = row_for(frontend, table, doomed)
    confirm = frontend.find(row, "xi-history-confirm")
    assert not frontend.is_shown(table, confirm)

    press(frontend, row, "xi-history-delete")
    assert frontend.is_shown(table, confirm)  # "Delete? yes/no" is showing
    assert not frontend.is_shown(table, frontend.find(row, "xi-history-delete"))
    assert requests.get(f"{server.base_url}/v1/history/{doomed}", timeout=10).status_code == 200

    press(frontend, row, "xi-history-cancel")
    assert not frontend.is_shown(table, confirm)
    frontend.click(confirm)  # a stray click after "no" deletes nothing
    assert requests.get(f"{server.base_url}/v1/history/{doomed}", timeout=10).status_code == 200

    press(frontend, row, "xi-history-delete")
    frontend.click(confirm)
    assert requests.get(f"{server.base_url}/v1/history/{doomed}", timeout=10).status_code == 404
    listed = requests.get(f"{server.base_url}/v1/history", params={"search": token},
                          timeout=10).json()["history"]
    assert [item["history_item_id"] for item in listed] == [kept]
    assert table.item_ids == [kept] and len(shown_rows(frontend, table)) == 1
    assert table.last_error is None


def test_failed_delete_shows_the_error_card(
    frontend: Any, client: Any, server: Any, two_voices: tuple,
) -> None:
    token = f"gone{uuid.uuid4().hex[:8]}"
    item_id = speak(client, f"Deleted elsewhere {token}.", two_voices[0])
    table = HistoryTable(client=client)
    frontend.set_state(table.search_box, value=token)
    row = row_for(frontend, table, item_id)
    assert not frontend.is_shown(table, table.error_card)
    press(frontend, row, "xi-history-delete")
    requests.delete(f"{server.base_url}/v1/history/{item_id}", timeout=10).raise_for_status()

    press(frontend, row, "xi-history-confirm")
    assert isinstance(table.last_error, NotFound)
    assert frontend.is_shown(table, table.error_card)
    assert table.error_card.text  # the server's readable message, one line
    assert "\n" not in table.error_card.text

    frontend.click(table.refresh_button)  # the next action that works clears the card
    assert table.last_error is None
    assert not frontend.is_shown(table, table.error_card)
    assert table.item_ids == []


def test_open_in_studio_passes_the_whole_item(
    frontend: Any, client: Any, two_voices: tuple,
) -> None:
    token = f"open{uuid.uuid4().hex[:8]}"
    voice = two_voices[1]
    take = client.tts.convert(
        voice.voice_id, text=f"Open me {token}.", output_format="mp3_22050_32",
        voice_settings={"stability": 0.3, "similarity_boost": 0.6, "speed": 1.1},
    )
    table = HistoryTable(client=client)
    frontend.set_state(table.search_box, value=token)
    opened = []
    table.on_open(opened.append)
    press(frontend, row_for(frontend, table, take.history_item_id), "xi-history-open")

    assert len(opened) == 1
    item = opened[0]
    assert item.text == f"Open me {token}."
    assert item.voice_id == voice.voice_id
    assert item.model_id
    assert item.settings["stability"] == pytest.approx(0.3)
    assert item.settings["speed"] == pytest.approx(1.1)

    table.on_open(opened.append, remove=True)
    press(frontend, row_for(frontend, table, take.history_item_id), "xi-history-open")
    assert len(opened) == 1


def test_checked_rows_download_as_one_zip(
    frontend: Any, client: Any, server: Any, two_voices: tuple, tmp_path: Any,
) -> None:
    token = f"zip{uuid.uuid4().hex[:8]}"
    ids = [speak(client, f"Zip take {n} {token}.", two_voices[0]) for n in range(3)]
    table = HistoryTable(client=client, download_dir=tmp_path)
    frontend.set_state(table.search_box, value=token)
    assert table.zip_button.disabled
    for item_id in (ids[0], ids[2]):
        frontend.set_state(frontend.find(row_for(frontend, table, item_id), "xi-history-select"),
                           value=True)
    assert table.zip_button.description == "Download 2 selected (zip)"

    frontend.click(table.zip_button)
    zips = list(tmp_path.glob("*.zip"))
    assert len(zips) == 1
    assert zips[0].name in table.status.value
    with zipfile.ZipFile(zips[0]) as archive:
        contents = sorted(archive.read(name) for name in archive.namelist())
    expected = sorted(
        requests.get(f"{server.base_url}/v1/history/{item_id}/audio", timeout=10).content
        for item_id in (ids[0], ids[2])
    )
    assert contents == expected


def test_row_download_and_inline_play(
    frontend: Any, client: Any, server: Any, two_voices: tuple, tmp_path: Any,
) -> None:
    token = f"play{uuid.uuid4().hex[:8]}"
    item_id = speak(client, f"Play me {token}.", two_voices[0])
    audio = requests.get(f"{server.base_url}/v1/history/{item_id}/audio", timeout=10).content
    table = HistoryTable(client=client, download_dir=tmp_path)
    frontend.set_state(table.search_box, value=token)
    row = row_for(frontend, table, item_id)

    press(frontend, row, "xi-history-download")
    files = list(tmp_path.iterdir())
    assert [path.read_bytes() for path in files] == [audio]
    assert files[0].suffix == ".mp3"

    press(frontend, row, "xi-history-play")
    (output,) = frontend.find(row, "xi-history-audio").outputs
    assert "<audio" in output["data"]["text/html"]
    assert "audio/mpeg" in output["data"]["text/html"]


def test_refresh_shows_a_new_take_first(client: Any, two_voices: tuple) -> None:
    table = HistoryTable(client=client)
    token = f"new{uuid.uuid4().hex[:8]}"
    item_id = speak(client, f"Brand new {token}.", two_voices[0])
    assert item_id not in {item.history_item_id for item in table.items}
    table.refresh()
    assert table.items[0].history_item_id == item_id


def test_to_dataframe_matches_the_page(frontend: Any, client: Any, paged_takes: dict) -> None:
    table = HistoryTable(client=client, page_size=10)
    frontend.set_state(table.search_box, value=paged_takes["token"])
    frame = table.to_dataframe()
    assert list(frame["history_item_id"]) == table.item_ids
    assert list(frame.columns) == ["history_item_id", "date", "voice_name", "voice_id",
                                   "model_id", "characters", "text"]
    assert (frame["characters"] > 0).all()
    # What a row shows is what its line of the frame says.
    for row, line in zip(shown_rows(frontend, table), frame.itertuples(), strict=True):
        cells = frontend.find(row, "xi-history-cells").value
        for shown in (line.date.strftime("%Y-%m-%d %H:%M"), line.voice_name, line.model_id,
                      f">{line.characters}<", html.escape(line.text)):
            assert shown in cells
    everything = table.to_dataframe(all_pages=True)
    assert sorted(everything["history_item_id"]) == sorted(paged_takes["ids"])


def test_css_classes_for_browser_tests(frontend: Any, client: Any, paged_takes: dict) -> None:
    table = HistoryTable(client=client)
    frontend.set_state(table.search_box, value=paged_takes["token"])
    assert frontend.find(table, "xi-history") is table
    row = shown_rows(frontend, table)[0]
    for css_class in ("xi-history-select", "xi-history-cells", "xi-history-play",
                      "xi-history-download", "xi-history-open", "xi-history-delete",
                      "xi-history-confirm", "xi-history-cancel", "xi-history-audio"):
        frontend.find(row, css_class)
    for css_class in ("xi-history-search", "xi-history-voice", "xi-history-page-size",
                      "xi-history-refresh", "xi-history-header", "xi-history-rows",
                      "xi-history-back", "xi-history-page", "xi-history-next",
                      "xi-history-zip", "xi-history-status"):
        frontend.find(table, css_class)


def test_the_browser_can_render_every_page(frontend: Any, client: Any, paged_takes: dict) -> None:
    table = HistoryTable(client=client, page_size=10)
    frontend.set_state(table.search_box, value=paged_takes["token"])
    first_page_models = frontend.render(table)
    frontend.click(table.next_button)
    frontend.click(table.next_button)  # last page: fewer rows shown, none missing
    assert frontend.render(table) < first_page_models
    frontend.click(table.back_button)
    assert frontend.render(table) == first_page_models
