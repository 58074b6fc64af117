"""``synthesize_many``: many takes into a folder, with a manifest, a progress bar and resume.

The manifest (``manifest.csv``) is rewritten after every item, and audio files are written
under a temporary name and renamed when complete, so an interrupted run leaves only finished
files behind and a re-run skips them.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xiwidgets.client.batch_tasks import (
    CAPTION_SUFFIXES,
    TakeOutcome,
    TakeTask,
    failed_item,
    make_take,
    write_atomically,
)
from xiwidgets.client.distributed import (
    WRITE_FILES,
    TaskRunner,
    WorkerConnection,
    run_on_worker,
    task_runner,
)
from xiwidgets.client.errors import RateLimited, XIError
from xiwidgets.client.pacing import DEFAULT_CONCURRENCY, AdaptiveLimit, advertised_maximum
from xiwidgets.client.types import BatchItem, BatchResult
from xiwidgets.client.voices import SettingsLike, VoiceRef, settings_dict
from xiwidgets.formats import codec_of_extension, codec_of_format

if TYPE_CHECKING:
    from xiwidgets.client.transport import Transport
    from xiwidgets.client.tts import TextToSpeech
    from xiwidgets.client.voices import Voices

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("index", "text", "file", "voice_id", "model_id", "settings", "output_format",
                    "character_cost", "request_id", "history_item_id", "status", "error",
                    "seed", "options", "captions", "time_to_first_byte", "total_time")
# A take refused (429) this many times becomes a failed row instead of waiting on.
MAX_REFUSALS = 8


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
    output_format: str = ""  # the row's own, else the batch's


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
          settings: SettingsLike | None, output_format: str, model_id: str | None) -> list[_Job]:
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
        row_format = str(_given(row, "output_format") or output_format)
        jobs.append(_Job(
            index=index, text=row["text"],
            voice=_given(row, "voice", "voice_id") or voice,
            settings=json.dumps(as_dict, sort_keys=True) if as_dict else "",
            file=str(_given(row, "filename") or f"{index:04d}{audio_extension(row_format)}"),
            model_id=_given(row, "model_id") or model_id,
            seed=int(seed) if seed is not None else None,
            options=_canonical(_given(row, "options")),
            output_format=row_format,
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


def _already_done(job: _Job, voice_id: str, captions: str | None,
                  previous: Mapping[str, str] | None, out_dir: Path) -> BatchItem | None:
    """The earlier result for ``job`` if the same request already produced a valid file."""
    if previous is None or previous.get("status") not in ("ok", "skipped"):
        return None
    # The format counts too: mp3_44100_128 and mp3_22050_32 share the extension, not the audio.
    model_id = job.model_id or ""
    same = (previous.get("text") == job.text and previous.get("voice_id") == voice_id
            and previous.get("model_id", "") == model_id
            and previous.get("output_format", "") == job.output_format
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
                     output_format=job.output_format,
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


def synthesize_many(tts: TextToSpeech, voices: Voices, transport: Transport,
                    items: Iterable[str | Mapping[str, Any]], *, voice: VoiceRef | None,
                    model_id: str | None, settings: SettingsLike | None, out_dir: str | Path,
                    output_format: str, max_concurrency: int | None, progress: bool,
                    captions: str | None = None, executor: object = None,
                    worker_connection: WorkerConnection | None = None,
                    write_files: str = "client") -> BatchResult:
    """See :meth:`xiwidgets.client.Client.synthesize_many`."""
    runner = task_runner(executor) if executor is not None else None
    if write_files not in WRITE_FILES:
        raise ValueError(f"write_files must be one of {', '.join(WRITE_FILES)}, "
                         f"not {write_files!r}")
    if runner is not None and not isinstance(worker_connection, WorkerConnection):
        raise TypeError("worker_connection must be a WorkerConnection (hosted(), server(url) "
                        f"or local()), not {type(worker_connection).__name__}")
    if max_concurrency is not None and (
            not isinstance(max_concurrency, int) or isinstance(max_concurrency, bool)
            or max_concurrency < 1):
        raise ValueError(f"max_concurrency must be a positive integer (or None for the "
                         f"server's maximum), not {max_concurrency!r}")
    if captions is not None and captions not in CAPTION_SUFFIXES:
        raise ValueError(f"captions must be one of {', '.join(CAPTION_SUFFIXES)} (or None), "
                         f"not {captions!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if runner is not None:
        out = out.resolve()  # the same place for a worker whatever its working directory
    manifest = out / MANIFEST_NAME
    jobs = _jobs(items, voice, settings, output_format, model_id)
    previous = _read_manifest(manifest)
    results: dict[int, BatchItem] = {}
    pending: list[TakeTask] = []
    for job in jobs:
        try:
            if job.voice is None:
                raise ValueError("No voice given: pass voice=... or a 'voice' column.")
            voice_id = voices.resolve_id(job.voice)
        except (XIError, ValueError, TypeError) as exc:
            results[job.index] = _failed(job, None, exc)
            continue
        done = _already_done(job, voice_id, captions, previous.get(job.index), out)
        if done is not None:
            results[job.index] = done
        else:
            pending.append(TakeTask(
                index=job.index, text=job.text, voice_id=voice_id, model_id=job.model_id,
                settings=job.settings, seed=job.seed, options=job.options, file=job.file,
                output_format=job.output_format, captions=captions, out_dir=str(out)))

    if runner is not None and write_files == "workers" and pending:
        blind = runner.blind_workers(str(out))
        if blind:
            raise ValueError(
                f"out_dir {out} is not visible on {len(blind)} worker(s) ({', '.join(blind)}): "
                "give a folder every worker sees (a shared file system), or "
                "write_files='client' to have the audio returned and written here. Nothing "
                "was sent.")

    from tqdm.auto import tqdm

    with tqdm(total=len(jobs), initial=len(results), disable=not progress,
              desc="synthesizing", unit="take") as bar:
        _write_manifest(manifest, results.values())

        def run(submit: Callable[[TakeTask], Future[TakeOutcome]], ceiling: int,
                shared_server: bool = True) -> None:
            limit = AdaptiveLimit(ceiling)
            bar.set_postfix(concurrency=limit.describe())
            for item in _dispatch(pending, submit, limit, bar, shared_server):
                results[item.index] = item
                _write_manifest(manifest, results.values())
                bar.update(1)

        if runner is None:
            ceiling = _ceiling(transport, max_concurrency) if pending else 1
            with ThreadPoolExecutor(max_workers=ceiling,
                                    thread_name_prefix="xiwidgets-batch") as pool:
                run(lambda task: pool.submit(make_take, task, tts), ceiling)
        else:
            assert worker_connection is not None
            connection = worker_connection
            here = write_files == "workers"
            run(lambda task: runner.executor.submit(
                run_on_worker, connection, replace(task, write_here=here)),
                _worker_ceiling(runner, connection, transport, max_concurrency, bool(pending)),
                # Workers with local servers of their own: each take's maximum is its own
                # server's, not a limit the batch shares.
                shared_server=connection.kind != "local")
    ordered = tuple(results[i] for i in sorted(results))
    return BatchResult(out_dir=out, manifest_path=manifest, items=ordered)


def _ceiling(transport: Transport, max_concurrency: int | None) -> int:
    """The most takes in flight: the caller's limit, never above a maximum the server enforces.

    A server that lets extra takes wait (a local server without ``max_concurrent_requests``)
    is held near its maximum only when the caller gave no limit of their own.
    """
    maximum, refuses = advertised_maximum(transport)
    if max_concurrency is None:
        # A server that queues rather than refuses gets one more than it runs at once, so
        # none of its syntheses waits for the next request to arrive.
        return maximum + (0 if refuses else 1) if maximum else DEFAULT_CONCURRENCY
    if maximum is not None and refuses:
        return min(max_concurrency, maximum)
    return max_concurrency


def _worker_ceiling(runner: TaskRunner, connection: WorkerConnection, transport: Transport,
                    max_concurrency: int | None, any_pending: bool) -> int:
    """Tasks in flight on an executor: no more than it runs at once, nor than the server takes.

    Workers with their own local servers share no limit; workers of one server or the hosted
    API share that server's (read here, then from the takes' headers).
    """
    if not any_pending:
        return 1
    if connection.kind == "local":
        wanted = max_concurrency or runner.capacity or DEFAULT_CONCURRENCY
    else:
        wanted = _ceiling(transport, max_concurrency)
    return min(wanted, runner.capacity) if runner.capacity else wanted


def _dispatch(tasks: Iterable[TakeTask], submit: Callable[[TakeTask], Future[TakeOutcome]],
              limit: AdaptiveLimit, bar: Any, shared_server: bool = True) -> Iterator[BatchItem]:
    """Run ``tasks`` with at most ``limit.current`` in flight; yield each finished row.

    With ``shared_server`` every take went to one server (or the hosted API), so the
    ``maximum-concurrent-requests`` it reports caps the whole batch; without, each worker has a
    server of its own and only refusals slow the batch down.

    A refused take goes back to the front of the queue (it was not made, so sending it again
    makes nothing twice) until it has been refused :data:`MAX_REFUSALS` times.
    """
    queue: deque[TakeTask] = deque(tasks)
    refusals: dict[int, int] = {}
    running: dict[Future[TakeOutcome], TakeTask] = {}
    while queue or running:
        while queue and len(running) < limit.current and limit.wait_s() == 0:
            task = queue.popleft()
            running[submit(task)] = task
        timeout = limit.wait_s() if queue and len(running) < limit.current else None
        if not running:
            time.sleep(timeout or 0)
            continue
        done, _ = wait(running, timeout=timeout, return_when=FIRST_COMPLETED)
        for future in done:
            task = running.pop(future)
            try:
                outcome = future.result()
            except Exception as exc:  # a task that raised (a worker lost) is a failed row
                yield failed_item(task, exc)
                continue
            if outcome.refused:
                limit.refused(outcome.retry_after, in_flight=len(running) + 1)
                bar.set_postfix(concurrency=limit.describe())
                refusals[task.index] = refusals.get(task.index, 0) + 1
                if refusals[task.index] < MAX_REFUSALS:
                    queue.appendleft(task)
                    continue
                yield failed_item(task, RateLimited(
                    f"The server refused this take {MAX_REFUSALS} times (too many concurrent "
                    "requests); nothing was made. Run the batch again to resume."))
                continue
            limit.succeeded(outcome.maximum if shared_server else None)
            bar.set_postfix(concurrency=limit.describe())
            yield _written_here(task, outcome)


def _written_here(task: TakeTask, outcome: TakeOutcome) -> BatchItem:
    """The row of a finished take, its files written here when a worker returned them."""
    item = outcome.item
    assert item is not None
    if outcome.audio is None or item.path is None:
        return item
    try:
        if item.captions and outcome.caption_text is not None:
            write_atomically(item.path.with_name(item.captions),
                             outcome.caption_text.encode("utf-8"))
        write_atomically(item.path, outcome.audio)
    except OSError as exc:
        # Made and billed, only not saved: the row keeps its ids to find it in the history.
        return replace(item, status="failed", file=None, path=None, error=str(exc))
    return item


def _failed(job: _Job, voice_id: str | None, exc: BaseException) -> BatchItem:
    return BatchItem(index=job.index, text=job.text, file=None, voice_id=voice_id,
                     model_id=job.model_id, settings=job.settings, status="failed",
                     seed=job.seed, options=job.options, error=str(exc) or type(exc).__name__)
