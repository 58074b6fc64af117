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
from dataclasses import dataclass
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
                    "character_cost", "request_id", "history_item_id", "status", "error",
                    "seed", "options", "captions", "time_to_first_byte", "total_time")
CAPTION_SUFFIXES = {"srt": ".srt", "vtt": ".vtt"}


@dataclass(frozen=True)
class _Job:
    index: int
    text: str
    voice: VoiceRef | None
    settings: str  # canonical JSON, "" when none
    file: str
    model_id: str | None = None
    seed: int | None = None
    options: str = ""  # further request fields, canonical JSON, "" when none


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


def _canonical(value: Mapping[str, Any] | str | None) -> str:
    if isinstance(value, str):  # a JSON cell, e.g. read back from a CSV
        value = json.loads(value) if value else None
    return json.dumps(dict(value), sort_keys=True) if value else ""


def _jobs(items: Iterable[str | Mapping[str, Any]], voice: VoiceRef | None,
          settings: SettingsLike | None, extension: str, model_id: str | None) -> list[_Job]:
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
        seed = _given(row, "seed")
        jobs.append(_Job(
            index=index, text=row["text"],
            voice=_given(row, "voice", "voice_id") or voice,
            settings=json.dumps(as_dict, sort_keys=True) if as_dict else "",
            file=str(_given(row, "filename") or f"{index:04d}{extension}"),
            model_id=_given(row, "model_id") or model_id,
            seed=int(seed) if seed is not None else None,
            options=_canonical(_given(row, "options")),
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
            values = {name: getattr(item, name) for name in MANIFEST_COLUMNS}
            writer.writerow({k: ("" if v is None else v) for k, v in values.items()})
    os.replace(tmp, path)


def _already_done(job: _Job, voice_id: str, output_format: str, captions: str | None,
                  previous: Mapping[str, str] | None, out_dir: Path) -> BatchItem | None:
    """The earlier result for ``job`` if the same request already produced a valid file."""
    if previous is None or previous.get("status") not in ("ok", "skipped"):
        return None
    # The format counts too: mp3_44100_128 and mp3_22050_32 share the extension, not the audio.
    model_id = job.model_id or ""
    same = (previous.get("text") == job.text and previous.get("voice_id") == voice_id
            and previous.get("model_id", "") == model_id
            and previous.get("output_format", "") == output_format
            and previous.get("settings", "") == job.settings and previous.get("file") == job.file
            and previous.get("seed", "") == ("" if job.seed is None else str(job.seed))
            and previous.get("options", "") == job.options)
    if not same or not looks_like_audio(out_dir / job.file):
        return None
    caption_file = previous.get("captions") or None
    if captions and (caption_file is None or not (out_dir / caption_file).exists()
                     or not caption_file.endswith(CAPTION_SUFFIXES[captions])):
        return None
    cost = previous.get("character_cost")
    return BatchItem(index=job.index, text=job.text, file=job.file, voice_id=voice_id,
                     model_id=model_id or None, settings=job.settings, status="skipped",
                     output_format=output_format,
                     character_cost=int(cost) if cost and cost.isdigit() else None,
                     request_id=previous.get("request_id") or None,
                     history_item_id=previous.get("history_item_id") or None,
                     seed=job.seed, options=job.options, captions=caption_file,
                     time_to_first_byte=_float_or_none(previous.get("time_to_first_byte")),
                     total_time=_float_or_none(previous.get("total_time")),
                     path=out_dir / job.file)


def _float_or_none(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def synthesize_many(tts: TextToSpeech, voices: Voices,
                    items: Iterable[str | Mapping[str, Any]], *, voice: VoiceRef | None,
                    model_id: str | None, settings: SettingsLike | None, out_dir: str | Path,
                    output_format: str, max_concurrency: int, progress: bool,
                    captions: str | None = None) -> BatchResult:
    """See :meth:`xiwidgets.client.Client.synthesize_many`."""
    if not isinstance(max_concurrency, int) or max_concurrency < 1:
        raise ValueError(f"max_concurrency must be a positive integer, not {max_concurrency!r}")
    if captions is not None and captions not in CAPTION_SUFFIXES:
        raise ValueError(f"captions must be one of {', '.join(CAPTION_SUFFIXES)} (or None), "
                         f"not {captions!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / MANIFEST_NAME
    jobs = _jobs(items, voice, settings, audio_extension(output_format), model_id)
    previous = _read_manifest(manifest)
    results: dict[int, BatchItem] = {}
    pending: list[tuple[_Job, str]] = []
    for job in jobs:
        try:
            if job.voice is None:
                raise ValueError("No voice given: pass voice=... or a 'voice' column.")
            voice_id = voices.resolve_id(job.voice)
        except (XIError, ValueError, TypeError) as exc:
            results[job.index] = _failed(job, None, exc)
            continue
        done = _already_done(job, voice_id, output_format, captions, previous.get(job.index),
                             out)
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
        caption_file = None
        try:
            # Captions need the character timings, which only /with-timestamps returns.
            convert = tts.convert_with_timestamps if captions else tts.convert
            take = convert(voice_id, text=job.text, model_id=job.model_id,
                           voice_settings=json.loads(job.settings) if job.settings else None,
                           output_format=output_format, seed=job.seed,
                           **(json.loads(job.options) if job.options else {}))
            target = out / job.file
            if captions:
                caption_file = target.with_suffix(CAPTION_SUFFIXES[captions]).name
                _write_atomically(out / caption_file, (
                    take.to_srt() if captions == "srt" else take.to_vtt()).encode("utf-8"))
            _write_atomically(target, take.audio)
        except (XIError, OSError, ValueError) as exc:
            return _failed(job, voice_id, exc)
        return BatchItem(index=job.index, text=job.text, file=job.file, voice_id=voice_id,
                         model_id=job.model_id, settings=job.settings, status="ok",
                         output_format=output_format,
                         character_cost=take.character_cost, request_id=take.request_id,
                         history_item_id=take.history_item_id,
                         current_concurrent_requests=take.info.current_concurrent_requests,
                         seed=job.seed, options=job.options, captions=caption_file,
                         time_to_first_byte=take.time_to_first_byte,
                         total_time=take.total_time, path=target)

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


def _write_atomically(target: Path, data: bytes) -> None:
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, target)


def _failed(job: _Job, voice_id: str | None, exc: BaseException) -> BatchItem:
    # A take that failed after the server may have made it keeps its ids in the manifest, so
    # it can be found in the history instead of being paid for again.
    return BatchItem(index=job.index, text=job.text, file=None, voice_id=voice_id,
                     model_id=job.model_id, settings=job.settings, status="failed",
                     seed=job.seed, options=job.options,
                     request_id=getattr(exc, "request_id", None),
                     history_item_id=getattr(exc, "history_item_id", None),
                     error=str(exc) or type(exc).__name__)

