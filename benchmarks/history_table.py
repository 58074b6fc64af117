"""HistoryTable first-page time with 10 000 history items vs 100 (target: ratio ≤ 1.5).

Two local servers run side by side, one with 100 takes and one with 10 000. One real take is made
through the API on each; the rest are copies of it written through the server's store before the
server restarts (10 000 TTS requests would take minutes and measure the engine, not the table).
Then, alternating between the two servers, a fresh ``HistoryTable`` is built (voice list + first
page + rendering) and the Next button's work is timed. Prints medians and the ratios.

Run: ``.venv/bin/python benchmarks/history_table.py``
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from xiwidgets.client import Client
from xiwidgets.server import start_in_thread
from xiwidgets.server.config import ServerConfig
from xiwidgets.server.store import Store, new_id
from xiwidgets.widgets.history import HistoryTable

SIZES = (100, 10_000)
ROUNDS = 15


def seeded_server(count: int, root: Path):
    """A server whose history holds ``count`` takes."""
    data_dir = root / f"history-{count}"
    handle = start_in_thread(data_dir=data_dir)
    client = Client(base_url=handle.base_url)
    voice = next(voice for voice in client.voices.list() if voice.name != "Joe")
    template = client.tts.convert(voice.voice_id, text="A take in a long history.",
                                  output_format="mp3_22050_32")
    client.close()
    handle.stop()

    store = Store(data_dir, character_limit=ServerConfig().character_limit)
    item = store.get_history_item(template.history_item_id)
    audio = store.history_audio_path(item).read_bytes()
    extension = Path(item.audio_file).suffix.lstrip(".")
    for number in range(count - 1):
        store.add_history_item(
            replace(item, history_item_id=new_id(), text=f"Take {number} in a long history."),
            audio, extension,
        )
    store.close()
    return start_in_thread(data_dir=data_dir)


def measure_history_table(rounds: int) -> tuple[dict[int, list[float]], dict[int, list[float]]]:
    """Seconds to build a new table (voices + first page + rows) and to go to the next page.

    Servers with each of ``SIZES`` takes are timed alternately, so load on the machine hits both
    alike; one warm-up round per server is dropped.

    Returns
    -------
    first_page, next_page : dict
        Timings per history size.
    """
    first_page: dict[int, list[float]] = {count: [] for count in SIZES}
    next_page: dict[int, list[float]] = {count: [] for count in SIZES}
    with tempfile.TemporaryDirectory(prefix="xi-bench-history-") as directory:
        started = time.perf_counter()
        servers = {count: seeded_server(count, Path(directory)) for count in SIZES}
        seconds = time.perf_counter() - started
        print(f"seeded {' + '.join(map(str, SIZES))} takes in {seconds:.1f} s")
        clients = {count: Client(base_url=server.base_url) for count, server in servers.items()}
        try:
            for round_number in range(rounds + 1):
                for count in SIZES:
                    started = time.perf_counter()
                    table = HistoryTable(client=clients[count], page_size=10)
                    built = time.perf_counter() - started
                    assert len(table.items) == 10 and table.has_more
                    started = time.perf_counter()
                    table.next_page()
                    paged = time.perf_counter() - started
                    table.close()
                    if round_number:
                        first_page[count].append(built)
                        next_page[count].append(paged)
        finally:
            for count in SIZES:
                clients[count].close()
                servers[count].stop()
    return first_page, next_page


def main() -> None:
    first_page, next_page = measure_history_table(ROUNDS)
    small, large = SIZES
    for label, timings in (("first page (new table)", first_page), ("Next page", next_page)):
        medians = {count: statistics.median(timings[count]) * 1000 for count in SIZES}
        print(f"HistoryTable {label}: {medians[small]:.1f} ms with {small} takes, "
              f"{medians[large]:.1f} ms with {large} takes, "
              f"ratio {medians[large] / medians[small]:.2f} (target ≤ 1.5)")


if __name__ == "__main__":
    main()
