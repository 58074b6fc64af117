"""What a history download of many ids (repeats included) costs the server: memory and bytes.

``probe_history_download`` measures one download against a running server whose process id is
known (a ``ServerProcess`` or this process for an in-thread server): the response size and how
far the server's resident memory rose above where it was. ``measure_history_download`` is the
whole figure for ``benchmarks/load.py``: a CLI server, a few takes, 200 ids cycling over them.
Run this file as a module (``python -m tests.reliability.probe_history_download``) to print it.

Peak memory comes from Linux's ``VmHWM`` (reset through ``/proc/<pid>/clear_refs``), so the peak
during the download is seen even if the memory is given back before it ends.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import requests

from .harness import DEFAULT_TIMEOUT, ServerProcess, auth_headers, voice_ids

DOWNLOAD_IDS = 200
DISTINCT_TAKES = 10
TAKE_TEXT = (
    "Take number {i} of the download probe. It is a few sentences long, so that its audio "
    "weighs a few hundred kilobytes, like a paragraph read aloud in a notebook. The rest is "
    "filler: the quick brown fox jumps over the lazy dog, again and again, until it is done."
)


@dataclass(frozen=True)
class HistoryDownloadProbe:
    """One ``POST /v1/history/download`` and what it cost the server."""

    ids_sent: int
    distinct_ids: int
    status: int
    response_bytes: int
    rss_before_bytes: int
    rss_growth_bytes: int


def _status_field_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def rss_bytes(pid: int) -> int:
    """Resident memory of process ``pid`` now."""
    return _status_field_kib(pid, "VmRSS") * 1024


def peak_rss_bytes(pid: int) -> int:
    """Highest resident memory of process ``pid`` since the last :func:`reset_peak_rss`."""
    return _status_field_kib(pid, "VmHWM") * 1024


def reset_peak_rss(pid: int) -> None:
    """Make the process's current resident memory its peak (``clear_refs`` value 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def probe_history_download(
    base_url: str,
    server_pid: int,
    history_item_ids: Sequence[str],
    total: int = DOWNLOAD_IDS,
    output_format: str | None = None,
    api_key: str | None = None,
    save_to: Path | None = None,
) -> HistoryDownloadProbe:
    """Download ``total`` ids cycling over ``history_item_ids`` and measure the server.

    Parameters
    ----------
    base_url : str
        The server.
    server_pid : int
        Its process id (``os.getpid()`` for a server started in this process; the client's
        own buffers then count too, but the body is read in small pieces and dropped).
    history_item_ids : sequence of str
        Existing history items; repeated as often as needed to send ``total`` ids.
    total : int
        How many ids the request body lists.
    output_format : str or None
        ``"wav"`` to have the server convert each item.
    api_key : str or None
        ``xi-api-key`` of a server started with keys.
    save_to : Path or None
        Write the body there as it arrives (it is otherwise counted and dropped).

    Returns
    -------
    HistoryDownloadProbe
        Status, response bytes, and the server's peak resident memory during the download
        minus its resident memory just before.
    """
    ids = [history_item_ids[i % len(history_item_ids)] for i in range(total)]
    body: dict[str, object] = {"history_item_ids": ids}
    if output_format is not None:
        body["output_format"] = output_format
    before = rss_bytes(server_pid)
    reset_peak_rss(server_pid)
    size = 0
    with contextlib.ExitStack() as stack:
        response = stack.enter_context(requests.post(
            f"{base_url}/v1/history/download", json=body, stream=True,
            headers=auth_headers(api_key), timeout=DEFAULT_TIMEOUT * 5))
        sink = stack.enter_context(open(save_to, "wb")) if save_to is not None else None
        for piece in response.iter_content(chunk_size=1 << 16):
            size += len(piece)
            if sink is not None:
                sink.write(piece)
        status = response.status_code
    return HistoryDownloadProbe(
        ids_sent=total,
        distinct_ids=len(set(ids)),
        status=status,
        response_bytes=size,
        rss_before_bytes=before,
        rss_growth_bytes=max(0, peak_rss_bytes(server_pid) - before),
    )


def make_takes(base_url: str, count: int, api_key: str | None = None) -> list[str]:
    """``count`` takes of a paragraph each (an espeak-ng voice: fast); their history ids."""
    voices = requests.get(f"{base_url}/v1/voices", headers=auth_headers(api_key),
                          timeout=DEFAULT_TIMEOUT).json()["voices"]
    voice = next((v["voice_id"] for v in voices if v["name"] == "Riley"),
                 voice_ids(base_url, api_key)[0])
    ids = []
    for i in range(count):
        response = requests.post(f"{base_url}/v1/text-to-speech/{voice}",
                                 json={"text": TAKE_TEXT.format(i=i)},
                                 headers=auth_headers(api_key), timeout=DEFAULT_TIMEOUT)
        response.raise_for_status()
        ids.append(response.headers["history-item-id"])
    return ids


def measure_history_download(data_dir: Path, output_format: str | None = None
                             ) -> HistoryDownloadProbe:
    """The benchmark figure: a CLI server, ``DISTINCT_TAKES`` takes, ``DOWNLOAD_IDS`` ids."""
    with ServerProcess(data_dir) as server:
        ids = make_takes(server.base_url, DISTINCT_TAKES)
        assert server.process is not None
        return probe_history_download(server.base_url, server.process.pid, ids,
                                      output_format=output_format)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="xi-probe-download-") as directory:
        for fmt in (None, "wav"):
            probe = measure_history_download(Path(directory) / (fmt or "mp3"), fmt)
            print(f"{fmt or 'mp3'}: {probe.ids_sent} ids ({probe.distinct_ids} distinct) -> "
                  f"{probe.status}, {probe.response_bytes / 1e6:.1f} MB returned, server RSS "
                  f"+{probe.rss_growth_bytes / 1e6:.1f} MB (from "
                  f"{probe.rss_before_bytes / 1e6:.0f} MB)")
