"""Pictures of takes with matplotlib: waveform, spectrogram and words on one time axis.

Figures are closed in pyplot before they are returned: the notebook shows the returned figure
once (as the cell's value) instead of a second time when the cell ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xiwidgets.experiments._deps import require

_SPECTRUM_TOP_HZ = 8000  # speech energy above 8 kHz is sibilance only; the rest gets the room
_SPECTRUM_RANGE_DB = 70


def _words_of(take: Any) -> list[Any]:
    from xiwidgets.client.types import NoAlignmentError

    try:
        return list(take.words)
    except (NoAlignmentError, AttributeError):
        return []


def _label_of(take: Any) -> str:
    parts = [getattr(take, "voice_name", None) or getattr(take, "voice_id", None)]
    seed = getattr(take, "seed", None)
    if seed is not None:
        parts.append(f"seed {seed}")
    return " · ".join(p for p in parts if p) or type(take).__name__


def _waveform(ax: Any, samples: Any, rate: int) -> None:
    import numpy as np

    # Past a few thousand points a line is a solid band: draw its min/max envelope instead.
    bins = 3000
    if len(samples) > 10 * bins:
        usable = len(samples) // bins * bins
        blocks = samples[:usable].reshape(bins, -1)
        times = (np.arange(bins) + 0.5) * blocks.shape[1] / rate
        ax.fill_between(times, blocks.min(axis=1), blocks.max(axis=1), color="#1f77b4",
                        linewidth=0)
    else:
        ax.plot(np.arange(len(samples)) / rate, samples, color="#1f77b4", linewidth=0.6)
    ax.set_ylim(-1, 1)
    ax.set_ylabel("amplitude")


def _word_track(ax: Any, words: Sequence[Any]) -> None:
    for index, word in enumerate(words):
        level = index % 2  # alternate rows so neighbouring labels do not overlap
        ax.broken_barh([(word.start, max(word.end - word.start, 0.005))], (level, 0.8),
                       facecolors="#c6dbef" if level else "#9ecae1")
        ax.text((word.start + word.end) / 2, level + 0.4, word.text, ha="center",
                va="center", fontsize=8, clip_on=True)
    ax.set_ylim(-0.1, 1.9)
    ax.set_yticks([])
    ax.set_ylabel("words")


def plot_take(take: Any, *, title: str | None = None,
              figsize: tuple[float, float] | None = None) -> Any:
    """Draw one take: waveform, spectrogram and, for a timed take, its words.

    Parameters
    ----------
    take : Take
        Anything with ``.samples`` and ``.sample_rate`` (and ``.words`` for the word track).
    title : str, optional
        Above the figure; the take's voice and seed by default.
    figsize : (float, float), optional
        Inches; sized for a notebook's width by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = require("matplotlib.pyplot", "take.plot()")
    import numpy as np

    samples, rate = take.samples, take.sample_rate or 1  # an empty MP3 has no rate
    words = _words_of(take)
    rows = 3 if words else 2
    fig, axes = plt.subplots(rows, 1, sharex=True, figsize=figsize or (10, 1.6 * rows + 0.8),
                             gridspec_kw={"height_ratios": [1, 1.4, 0.6][:rows]},
                             layout="constrained")
    _waveform(axes[0], samples, rate)
    if len(samples) >= 512:
        spectrum, *_, image = axes[1].specgram(samples, NFFT=512, Fs=rate, noverlap=384,
                                               cmap="magma")
        top = 10 * np.log10(max(float(spectrum.max()), 1e-20))
        image.set_clim(top - _SPECTRUM_RANGE_DB, top)  # the noise floor black, not orange
    axes[1].set_ylim(0, min(_SPECTRUM_TOP_HZ, rate / 2))
    axes[1].set_ylabel("Hz")
    if words:
        _word_track(axes[2], words)
    axes[-1].set_xlabel("seconds")
    axes[-1].set_xlim(0, max(len(samples) / rate, 0.01))
    fig.suptitle(title or _label_of(take), fontsize=10)
    plt.close(fig)
    return fig


def plot_compare(takes: Sequence[Any], labels: Sequence[str] | None = None, *,
                 figsize: tuple[float, float] | None = None) -> Any:
    """Stack several takes on one time axis: a waveform each, with its words when known.

    Parameters
    ----------
    takes : sequence of Take
        Anything with ``.samples`` and ``.sample_rate``.
    labels : sequence of str, optional
        One per take; voice and seed by default.
    figsize : (float, float), optional
        Inches; grows with the number of takes by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = require("matplotlib.pyplot", "plot_compare()")
    takes = list(takes)
    if not takes:
        raise ValueError("plot_compare needs at least one take.")
    if labels is not None and len(labels) != len(takes):
        raise ValueError(f"{len(labels)} labels for {len(takes)} takes: give one per take.")
    fig, axes = plt.subplots(len(takes), 1, sharex=True, squeeze=False,
                             figsize=figsize or (10, 1.5 * len(takes) + 0.6),
                             layout="constrained")
    longest = 0.01
    for index, (ax, take) in enumerate(zip(axes[:, 0], takes, strict=True)):
        samples, rate = take.samples, take.sample_rate or 1
        _waveform(ax, samples, rate)
        for number, word in enumerate(_words_of(take)):
            ax.axvline(word.start, color="#999", linewidth=0.5)
            ax.text(word.start, 0.95 - 0.2 * (number % 2), word.text, fontsize=7, va="top",
                    clip_on=True)
        ax.set_ylabel(labels[index] if labels is not None else _label_of(take), fontsize=8)
        longest = max(longest, len(samples) / rate)
    axes[-1, 0].set_xlim(0, longest)
    axes[-1, 0].set_xlabel("seconds")
    plt.close(fig)
    return fig
