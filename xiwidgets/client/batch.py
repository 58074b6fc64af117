"""``synthesize_many``: many takes into a folder, with a manifest, a progress bar and resume.

The manifest (``manifest.csv``) is rewritten after every item, and audio files are written
under a temporary name and renamed when complete, so an interrupted run leaves only finished
files behind and a re-run skips them.
"""

from __future__ import annotations

import csv
import json
import os
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xiwidgets.client.errors import XIError
from xiwidgets.client.types import BatchItem, BatchResult
from xiwidgets.client.voices import SettingsLike, VoiceRef, settings_dict
from xiwidgets.formats import codec_of_extension, codec_of_format

if TYPE_CHECKING:
    from xiwidgets.client.tts import TextToSpeech
    from xiwidgets.client.voices import Voices

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("index", "text", "file", "voice_id", "model_id", "settings", "output_format",
                    "character_cost", "request_id", "history_item_id", "status", "error")


@dataclass(frozen=True)
class _Job:
    index: int
    text: str
    voice: VoiceRef | None
    settings: str  # canonical JSON, "" when none
    file: str


def audio_extension(output_format: str) -> str:
    """File extension for an API ``output_format`` (``mp3_44100_128`` → ``.mp3``)."""
    codec = codec_of_format(output_format)
    return codec.extension if codec is not None else ".bin"


def looks_like_audio(path: Path) -> bool:
    """A cheap check that ``path`` is a complete-looking file of its type (not empty/garbage)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError:
        return False
    codec = codec_of_extension(path.suffix)
    return codec.starts_like(head) if codec is not None else bool(head)


def _given(row: Mapping[str, Any], *names: str) -> Any:
    """The first of ``names`` set in ``row``; blank cells (None, "", pandas NaN) count as unset."""
    for name in names:
        value = row.get(name)
        if value is None or value == "" or (isinstance(value, float) and value != value):
            continue
        return value
    return None


def _jobs(items: Iterable[str | Mapping[str, Any]], voice: VoiceRef | None,
          settings: SettingsLike | None, extension: str) -> list[_Job]:
    if hasattr(items, "to_dict"):  # a pandas DataFrame: one row per item
        items = items.to_dict("records")
    jobs = []
    for index, item in enumerate(items):
        row: Mapping[str, Any] = {"text": item} if isinstance(item, str) else item
        if not isinstance(row, Mapping) or not isinstance(row.get("text"), str):
            raise ValueError(f"Item {index} needs a text: give strings or rows with a 'text' key.")
        row_settings = _given(row, "settings", "voice_settings") or settings
        if isinstance(row_settings, str):  # a JSON cell, e.g. read back from a CSV
            row_settings = json.loads(row_settings)
        as_dict = settings_dict(row_settings)
        jobs.append(_Job(
            index=index, text=row["text"],
            voice=_given(row, "voice", "voice_id") or voice,
            settings=json.dumps(as_dict, sort_keys=True) if as_dict else "",
            file=str(_given(row, "filename") or f"{index:04d}{extension}"),
        ))
    return jobs


def _read_manifest(path: Path) -> dict[int, dict[str, str]]:
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {int(row["index"]): row for row in csv.DictReader(handle)
                if (row.get("index") or "").isdigit()}


def _write_manifest(path: Path, items: Iterable[BatchItem]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for item in sorted(items, key=lambda i: i.index):
            writer.writerow({k: ("" if v is None else v) for k, v in asdict(item).items()})
    os.replace(tmp, path)


def _already_done(job: _Job, voice_id: str, model_id: str, output_format: str,
                  previous: Mapping[str, str] | None, out_dir: Path) -> BatchItem | None:
    """The earlier result for ``job`` if the same request already produced a valid file."""
    if previous is None or previous.get("status") not in ("ok", "skipped"):
        return None
    # The format counts too: mp3_44100_128 and mp3_22050_32 share the extension, not the audio.
    same = (previous.get("text") == job.text and previous.get("voice_id") == voice_id
            and previous.get("model_id", "") == model_id
            and previous.get("output_format", "") == output_format
            and previous.get("settings", "") == job.settings and previous.get("file") == job.file)
    if not same or not looks_like_audio(out_dir / job.file):
        return None
    cost = previous.get("character_cost")
    return BatchItem(index=job.index, text=job.text, file=job.file, voice_id=voice_id,
                     model_id=model_id or None, settings=job.settings, status="skipped",
                     output_format=output_format,
                     character_cost=int(cost) if cost and cost.isdigit() else None,
                     request_id=previous.get("request_id") or None,
                     history_item_id=previous.get("history_item_id") or None)


def synthesize_many(tts: TextToSpeech, voices: Voices,
                    items: Iterable[str | Mapping[str, Any]], *, voice: VoiceRef | None,
                    model_id: str | None, settings: SettingsLike | None, out_dir: str | Path,
                    output_format: str, max_concurrency: int, progress: bool) -> BatchResult:
    """See :meth:`xiwidgets.client.Client.synthesize_many`."""
    if not isinstance(max_concurrency, int) or max_concurrency < 1:
        raise ValueError(f"max_concurrency must be a positive integer, not {max_concurrency!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / MANIFEST_NAME
    jobs = _jobs(items, voice, settings, audio_extension(output_format))
    previous = _read_manifest(manifest)
    results: dict[int, BatchItem] = {}
    pending: list[tuple[_Job, str]] = []
    for job in jobs:
        try:
            if job.voice is None:
                raise ValueError("No voice given: pass voice=... or a 'voice' column.")
            voice_id = voices.resolve_id(job.voice)
        except (XIError, ValueError, TypeError) as exc:
            results[job.index] = _failed(job, None, model_id, exc)
            continue
        done = _already_done(job, voice_id, model_id or "", output_format,
                             previous.get(job.index), out)
        if done is not None:
            results[job.index] = done
        else:
            pending.append((job, voice_id))

    lock = threading.Lock()

    def record(item: BatchItem) -> None:
        with lock:
            results[item.index] = item
            _write_manifest(manifest, results.values())

    def run(job: _Job, voice_id: str) -> BatchItem:
        try:
            take = tts.convert(job.text, voice_id, model_id=model_id,
                               voice_settings=json.loads(job.settings) if job.settings else None,
                               output_format=output_format)
            target = out / job.file
            partial = target.with_name(target.name + ".part")
            partial.write_bytes(take.audio)
            os.replace(partial, target)
        except (XIError, OSError) as exc:
            return _failed(job, voice_id, model_id, exc)
        return BatchItem(index=job.index, text=job.text, file=job.file, voice_id=voice_id,
                         model_id=model_id, settings=job.settings, status="ok",
                         output_format=output_format,
                         character_cost=take.character_cost, request_id=take.request_id,
                         history_item_id=take.history_item_id,
                         current_concurrent_requests=take.info.current_concurrent_requests)

    from tqdm.auto import tqdm

    with tqdm(total=len(jobs), initial=len(results), disable=not progress,
              desc="synthesizing", unit="take") as bar:
        _write_manifest(manifest, results.values())
        with ThreadPoolExecutor(max_workers=max_concurrency,
                                thread_name_prefix="xiwidgets-batch") as pool:
            futures = [pool.submit(run, job, voice_id) for job, voice_id in pending]
            for future in as_completed(futures):
                record(future.result())
                bar.update(1)
    ordered = tuple(results[i] for i in sorted(results))
    return BatchResult(out_dir=out, manifest_path=manifest, items=ordered)


def _failed(job: _Job, voice_id: str | None, model_id: str | None,
            exc: BaseException) -> BatchItem:
    # A take that failed after the server may have made it keeps its ids in the manifest, so
    # it can be found in the history instead of being paid for again.
    return BatchItem(index=job.index, text=job.text, file=None, voice_id=voice_id,
                     model_id=model_id, settings=job.settings, status="failed",
                     request_id=getattr(exc, "request_id", None),
                     history_item_id=getattr(exc, "history_item_id", None),
                     error=str(exc) or type(exc).__name__)

