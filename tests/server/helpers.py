"""Small helpers for the server's integration tests: talking HTTP and decoding audio."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
import requests
from websockets.exceptions import ConnectionClosed

TIMEOUT = 60
SPEC_PATH = Path(__file__).resolve().parents[3] / "shared" / "reference" / (
    "elevenlabs-openapi-subset.json"
)


def get(server, path: str, **kwargs) -> requests.Response:
    """GET ``path`` on ``server``."""
    return requests.get(server.base_url + path, timeout=TIMEOUT, **kwargs)


def post(server, path: str, **kwargs) -> requests.Response:
    """POST to ``path`` on ``server``."""
    return requests.post(server.base_url + path, timeout=TIMEOUT, **kwargs)


def delete(server, path: str, **kwargs) -> requests.Response:
    """DELETE ``path`` on ``server``."""
    return requests.delete(server.base_url + path, timeout=TIMEOUT, **kwargs)


def voice_id_named(server, name: str, headers: dict | None = None) -> str:
    """The id of the voice called ``name``, found through the API."""
    voices = get(server, "/v1/voices", headers=headers).json()["voices"]
    return next(voice["voice_id"] for voice in voices if voice["name"] == name)


def history_count(server, headers: dict | None = None) -> int:
    """How many history items the server holds."""
    return len(get(server, "/v1/history?page_size=1000", headers=headers).json()["history"])


def character_count(server, headers: dict | None = None) -> int:
    """The account's used characters."""
    return get(server, "/v1/user/subscription", headers=headers).json()["character_count"]


def decode_audio(data: bytes) -> tuple[np.ndarray, int]:
    """Decode an encoded audio file (mp3, wav, ...) to mono float samples and its rate."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=stream.rate)
        blocks = [
            frame.to_ndarray().reshape(-1)
            for decoded in container.decode(stream)
            for frame in resampler.resample(decoded)
        ]
        rate = stream.rate
    return (np.concatenate(blocks) if blocks else np.zeros(0, np.float32)), rate


def duration_of(data: bytes) -> float:
    """Seconds of audio in an encoded file."""
    samples, rate = decode_audio(data)
    return len(samples) / rate


def load_spec() -> dict | None:
    """The official OpenAPI subset, or ``None`` when ``../shared`` is not present."""
    if not SPEC_PATH.exists():
        return None
    return json.loads(SPEC_PATH.read_text())


def wav_sample(server, voice_id: str, text: str) -> bytes:
    """A WAV recording of ``text`` spoken by one of the server's voices (a cloning sample)."""
    response = post(
        server,
        f"/v1/text-to-speech/{voice_id}?output_format=wav_22050&enable_logging=false",
        json={"text": text},
    )
    response.raise_for_status()
    return response.content


@contextlib.contextmanager
def without_kokoro(tmp_path: Path) -> Iterator[None]:
    """While inside, every server of this process finds no Kokoro assets (Joe and espeak-ng
    only): for tests of the fallback, and for fast ones whose point is not the voice."""
    from xiwidgets.server.engines.kokoro_assets import ASSETS_ENV

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ASSETS_ENV, str(tmp_path))
        yield


def receive_all(socket) -> list[dict]:
    """Every JSON message a websocket sends until the server closes it."""
    messages = []
    while True:
        try:
            messages.append(json.loads(socket.recv(timeout=TIMEOUT)))
        except ConnectionClosed:
            return messages
