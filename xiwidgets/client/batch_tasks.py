"""One take of a batch, as a task: what to make, how it went, and making it.

A :class:`TakeTask` carries the request and where its files go, and no client and no key, so
it can be pickled and sent to a worker process or machine; :func:`make_take` runs it with a
client of the place it runs in and returns a :class:`TakeOutcome` (the manifest row, or a
refusal to try again later).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from xiwidgets.client.errors import RateLimited, XIError
from xiwidgets.client.transport import refusals_to_caller
from xiwidgets.client.types import BatchItem

if TYPE_CHECKING:
    from xiwidgets.client.tts import TextToSpeech

CAPTION_SUFFIXES = {"srt": ".srt", "vtt": ".vtt"}


@dataclass(frozen=True)
class TakeTask:
    """One item of a batch, ready to be made anywhere.

    Attributes
    ----------
    index, text, voice_id, model_id, settings, seed, options, file
        The item (``settings`` and ``options`` as canonical JSON, ``""`` when none).
    output_format : str
        The audio encoding.
    captions : {"srt", "vtt"} or None
        Caption files to write beside the audio.
    out_dir : str
        Where the files go.
    write_here : bool
        Write the files where the task runs (``out_dir`` is visible there); else return the
        bytes for the caller to write.
    """

    index: int
    text: str
    voice_id: str
    model_id: str | None
    settings: str
    seed: int | None
    options: str
    file: str
    output_format: str
    captions: str | None
    out_dir: str
    write_here: bool = True


@dataclass(frozen=True)
class TakeOutcome:
    """What became of a :class:`TakeTask`.

    Attributes
    ----------
    item : BatchItem or None
        The manifest row (``ok`` or ``failed``); ``None`` when the take was refused.
    refused : bool
        The server refused it (429) before doing anything: send it again later.
    retry_after : float or None
        The refusal's ``Retry-After``.
    maximum : int or None
        The take's ``maximum-concurrent-requests`` header.
    audio, caption_text : bytes or None, str or None
        The files' contents, when the caller writes them (``write_here`` false).
    """

    item: BatchItem | None
    refused: bool = False
    retry_after: float | None = None
    maximum: int | None = None
    audio: bytes | None = None
    caption_text: str | None = None


def make_take(task: TakeTask, tts: TextToSpeech) -> TakeOutcome:
    """Make one take with ``tts`` and write (or return) its files.

    A 429 is not retried here (the batch paces itself): it comes back as a refusal. Any other
    error is a failed row, keeping the ids of a take the server may have made.
    """
    caption_file = None
    caption_text = None
    try:
        # Captions need the character timings, which only /with-timestamps returns.
        convert = tts.convert_with_timestamps if task.captions else tts.convert
        with refusals_to_caller():
            take = convert(task.voice_id, text=task.text, model_id=task.model_id,
                           voice_settings=json.loads(task.settings) if task.settings else None,
                           output_format=task.output_format, seed=task.seed,
                           **(json.loads(task.options) if task.options else {}))
        out = Path(task.out_dir)
        target = out / task.file
        if task.captions:
            caption_file = target.with_suffix(CAPTION_SUFFIXES[task.captions]).name
            caption_text = take.to_srt() if task.captions == "srt" else take.to_vtt()
    except RateLimited as exc:
        return TakeOutcome(item=None, refused=True, retry_after=exc.retry_after)
    except (XIError, OSError, ValueError) as exc:
        return TakeOutcome(item=failed_item(task, exc))
    item = BatchItem(index=task.index, text=task.text, file=task.file, voice_id=task.voice_id,
                     model_id=task.model_id, settings=task.settings, status="ok",
                     output_format=task.output_format,
                     character_cost=take.character_cost, request_id=take.request_id,
                     history_item_id=take.history_item_id,
                     current_concurrent_requests=take.info.current_concurrent_requests,
                     seed=task.seed, options=task.options, captions=caption_file,
                     time_to_first_byte=take.time_to_first_byte,
                     total_time=take.total_time, path=target)
    if task.write_here:
        try:
            if caption_file is not None and caption_text is not None:
                write_atomically(out / caption_file, caption_text.encode("utf-8"))
            write_atomically(target, take.audio)
        except OSError as exc:
            # Made and billed, only not saved: the row keeps its ids to find it in the history.
            item = replace(item, status="failed", file=None, path=None, error=str(exc))
        return TakeOutcome(item=item, maximum=take.info.maximum_concurrent_requests)
    return TakeOutcome(item=item, maximum=take.info.maximum_concurrent_requests,
                       audio=take.audio, caption_text=caption_text)


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` under a temporary name, then rename: a file present is a whole file."""
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, target)


def failed_item(task: TakeTask, exc: BaseException) -> BatchItem:
    """The manifest row of a task that failed with ``exc``.

    A take that failed after the server may have made it keeps its ids in the manifest, so it
    can be found in the history instead of being paid for again.
    """
    return BatchItem(index=task.index, text=task.text, file=None, voice_id=task.voice_id,
                     model_id=task.model_id, settings=task.settings, status="failed",
                     output_format=task.output_format, seed=task.seed, options=task.options,
                     request_id=getattr(exc, "request_id", None),
                     history_item_id=getattr(exc, "history_item_id", None),
                     error=str(exc) or type(exc).__name__)
