"""Pictures of real takes: what is drawn, on which time axis."""

from __future__ import annotations

import io

import pytest

from xiwidgets.client import Take
from xiwidgets.experiments import plot_compare

TEXT = "Pictures of a take show its words."


@pytest.fixture(scope="module")
def timed(client):
    return client.tts.convert_with_timestamps("Joe", text=TEXT, seed=2, output_format="pcm_16000")


@pytest.fixture(scope="module")
def plain(client):
    return client.tts.convert("Joe", text=TEXT, seed=2, voice_settings={"speed": 0.8})


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_a_timed_take_shows_waveform_spectrogram_and_its_words(timed):
    figure = timed.plot()
    waveform, spectrogram, words = figure.axes[:3]

    assert len(figure.axes) >= 3 and spectrogram.images  # the spectrogram is an image
    assert _texts(words) == [w.text for w in timed.words]
    assert waveform.get_xlim() == pytest.approx((0, timed.duration))
    assert figure.get_size_inches()[0] <= 12  # fits a notebook's width
    png = io.BytesIO()
    figure.savefig(png, format="png")
    assert png.getvalue()[:4] == b"\x89PNG"


def test_a_take_without_words_has_no_word_track(plain):
    figure = plain.plot(title="slow")
    assert len([ax for ax in figure.axes if ax.get_ylabel() == "words"]) == 0
    assert figure.texts[0].get_text() == "slow"


def test_compare_stacks_takes_on_one_time_axis(timed, plain):
    figure = plot_compare([timed, plain], labels=["timed", "slow"])
    top, bottom = figure.axes
    assert [top.get_ylabel(), bottom.get_ylabel()] == ["timed", "slow"]
    assert top.get_shared_x_axes().joined(top, bottom)
    assert bottom.get_xlim()[1] == pytest.approx(max(timed.duration, plain.duration))
    assert _texts(top) == [w.text for w in timed.words] and not _texts(bottom)


def test_compare_refuses_nothing_and_mismatched_labels(timed):
    with pytest.raises(ValueError, match="at least one take"):
        plot_compare([])
    with pytest.raises(ValueError, match="one per take"):
        plot_compare([timed], labels=["a", "b"])


def test_plot_of_an_empty_take_does_not_fail():
    figure = Take(b"", output_format="pcm_16000").plot()
    assert len(figure.axes) == 2
