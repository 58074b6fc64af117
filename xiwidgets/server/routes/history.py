"""History of takes: list, get, audio, delete, download (one → the file, several → a zip)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, Response, StreamingResponse

from xiwidgets.formats import CODECS, HISTORY_OUTPUT_FORMAT, Codec, OutputFormat
from xiwidgets.server.auth import API_KEY_REQUIRED
from xiwidgets.server.dependencies import StoreDep
from xiwidgets.server.errors import APIError, PlainAPIError, history_item_not_found
from xiwidgets.server.schemas import HistoryDownloadBody
from xiwidgets.server.store import HistoryRecord, Store
from xiwidgets.server.takes import HISTORY_CONTENT_TYPE, mp3_to_wav

router = APIRouter(prefix="/v1/history", tags=["history"])

MAX_HISTORY_PAGE_SIZE = 1000
# Year 9999 in seconds: larger values are no date and would overflow SQLite.
UnixSeconds = Annotated[int | None, Query(ge=0, le=253_402_300_799)]
# A download is the stored MP3 (by default) or WAV decoded from it.
_STORED, _WAV = CODECS[OutputFormat.parse(HISTORY_OUTPUT_FORMAT).codec], CODECS["wav"]
DOWNLOAD_FORMATS: dict[str | None, Codec] = {
    None: _STORED, "": _STORED, "default": _STORED, "mp3": _STORED, "wav": _WAV
}


def history_item_response(item: HistoryRecord) -> dict[str, Any]:
    """The API's ``SpeechHistoryItemResponseModel`` for a stored history record.

    A dialogue's lines are in ``dialogue``; its top-level text and voice are empty, as the
    hosted API sends them (the stored text still serves ``search``).
    """
    spoken_by_one_voice = item.dialogue is None
    return {
        "history_item_id": item.history_item_id,
        "request_id": item.request_id,
        "voice_id": item.voice_id,
        "model_id": item.model_id,
        "voice_name": item.voice_name,
        "voice_category": item.voice_category,
        "text": item.text if spoken_by_one_voice else None,
        "date_unix": item.date_unix,
        "character_count_change_from": item.character_count_change_from,
        "character_count_change_to": item.character_count_change_to,
        "content_type": item.content_type,
        "state": "created",
        "settings": item.settings,
        "feedback": None,
        "share_link_id": None,
        "source": "TTS",
        "alignments": item.alignments,
        "dialogue": item.dialogue,
        "output_format": item.output_format,
    }


def _item_or_404(store: Store, history_item_id: str) -> HistoryRecord:
    item = store.get_history_item(history_item_id)
    if item is None:
        raise history_item_not_found(history_item_id)
    return item


@router.get("", dependencies=API_KEY_REQUIRED)
def list_history(
    store: StoreDep,
    page_size: Annotated[int, Query(ge=1, le=MAX_HISTORY_PAGE_SIZE)] = 100,
    start_after_history_item_id: str | None = None,
    voice_id: str | None = None,
    search: str | None = None,
    source: str | None = None,
    model_id: str | None = None,
    date_before_unix: UnixSeconds = None,
    date_after_unix: UnixSeconds = None,
) -> dict[str, Any]:
    """Takes, newest first; page on with ``last_history_item_id``."""
    if source not in (None, "TTS"):
        return {"history": [], "last_history_item_id": None, "has_more": False}
    try:
        items, has_more = store.list_history(
            page_size,
            start_after=start_after_history_item_id,
            voice_id=voice_id,
            search=search,
            model_id=model_id,
            date_before_unix=date_before_unix,
            date_after_unix=date_after_unix,
        )
    except KeyError:
        raise history_item_not_found(start_after_history_item_id or "") from None
    return {
        "history": [history_item_response(item) for item in items],
        "last_history_item_id": items[-1].history_item_id if items else None,
        "has_more": has_more,
    }


@router.post("/download", dependencies=API_KEY_REQUIRED)
def download_history(store: StoreDep, body: HistoryDownloadBody) -> Response:
    """One id → that take's audio; several → a zip of them, streamed one file at a time.

    Repeated ids are downloaded once (the body model drops them, keeping the first order).
    """
    if body.output_format not in DOWNLOAD_FORMATS:
        raise PlainAPIError(
            400,
            "invalid_output_format",
            f"output_format {body.output_format!r} is not supported for downloads; "
            "use 'wav' or leave it out for MP3.",
        )
    codec = DOWNLOAD_FORMATS[body.output_format]
    found = store.history_audio_files(body.history_item_ids)
    for history_item_id in body.history_item_ids:
        if history_item_id not in found:
            raise history_item_not_found(history_item_id)
    files = [(item_id, store.audio_dir / found[item_id]) for item_id in body.history_item_ids]
    if len(files) == 1:
        item_id, path = files[0]
        headers = {"content-disposition": f'attachment; filename="{item_id}{codec.extension}"'}
        if codec is _WAV:
            return Response(mp3_to_wav(path.read_bytes()), media_type=_WAV.media_type,
                            headers=headers)
        return FileResponse(path, media_type=HISTORY_CONTENT_TYPE, headers=headers)
    return StreamingResponse(
        _zip_stream(files, codec),
        media_type="application/zip",
        headers={"content-disposition": 'attachment; filename="history.zip"'},
    )


class _ZipSink:
    """The write end of a zip being streamed: collects bytes until they are taken."""

    def __init__(self) -> None:
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._pending.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: bytes wait in memory only until ``take`` hands them on."""

    def close(self) -> None:
        """Nothing to close: the zip's end is taken with ``take`` like the rest."""

    def take(self) -> bytes:
        data, self._pending = b"".join(self._pending), []
        return data


def _zip_stream(files: list[tuple[str, Path]], codec: Codec) -> Iterator[bytes]:
    """A zip of ``files`` as it is written: one file's bytes in memory at a time.

    The sink cannot seek, so ``zipfile`` puts each entry's sizes and CRC in a data
    descriptor after its data.
    """
    sink = _ZipSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for item_id, path in files:
            data = path.read_bytes()
            if codec is _WAV:
                data = mp3_to_wav(data)
            archive.writestr(f"{item_id}{codec.extension}", data)
            yield sink.take()
    yield sink.take()


@router.get("/{history_item_id}", dependencies=API_KEY_REQUIRED)
def get_history_item(store: StoreDep, history_item_id: str) -> dict[str, Any]:
    """One take's metadata."""
    return history_item_response(_item_or_404(store, history_item_id))


@router.get("/{history_item_id}/audio", dependencies=API_KEY_REQUIRED)
def get_history_audio(store: StoreDep, history_item_id: str) -> FileResponse:
    """One take's audio file."""
    item = _item_or_404(store, history_item_id)
    path = store.history_audio_path(item)
    if not path.exists():
        raise APIError(
            404, "history_item_audio_missing", "The audio of this history item is missing."
        )
    return FileResponse(path, media_type=item.content_type)


@router.delete("/{history_item_id}", dependencies=API_KEY_REQUIRED)
def delete_history_item(store: StoreDep, history_item_id: str) -> dict[str, str]:
    """Delete a take and its audio."""
    if not store.delete_history_item(history_item_id):
        raise history_item_not_found(history_item_id)
    return {"status": "ok"}
