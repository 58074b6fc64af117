"""How far a server's memory rises while it adds a voice from long samples.

``voice_memory_growth()`` is the probe ``benchmarks/load.py`` reports: it starts a CLI server
(:class:`ServerProcess`), makes a 600 s WAV of speech (one take of the server's English voice,
repeated), adds a voice from it and returns the rise of the server's resident memory above what
it held just before the upload. The reliability tests use the same pieces on other uploads.

Run ``python -m tests.reliability.probe_voice_memory`` to print the figure.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from pathlib import Path

import requests

from xiwidgets.wav import wav_bytes

from .harness import ServerProcess, auth_headers, english_voice_id

SPEECH_TEXT = (
    "Every spring the garden fills with birds, and the children count them from the kitchen "
    "window before school."
)
UPLOAD_TIMEOUT = 600.0


def speech_pcm(base_url: str, rate: int = 16000, api_key: str | None = None) -> bytes:
    """One take of :data:`SPEECH_TEXT` as 16-bit mono PCM at ``rate`` (about 5 s)."""
    voice = english_voice_id(base_url, api_key)
    response = requests.post(f"{base_url}/v1/text-to-speech/{voice}",
                             params={"output_format": f"pcm_{rate}", "enable_logging": "false"},
                             json={"text": SPEECH_TEXT, "seed": 1},
                             headers=auth_headers(api_key), timeout=120)
    response.raise_for_status()
    return response.content


def repeated_wav(pcm: bytes, rate: int, seconds: float) -> bytes:
    """A WAV of ``seconds`` made by repeating ``pcm`` (16-bit mono at ``rate``)."""
    length = int(seconds * rate) * 2
    return wav_bytes((pcm * (length // len(pcm) + 1))[:length], rate)


class PeakMemory:
    """``with PeakMemory(pid) as peak: ...`` then ``peak.growth``: bytes of resident memory
    the process held at its highest during the block, above what it held at the start.

    Sampled every few milliseconds; on Linux the kernel's own high-water mark (``VmHWM``,
    reset at the start through ``/proc/PID/clear_refs``) catches peaks between samples.
    """

    INTERVAL = 0.005

    def __init__(self, pid: int) -> None:
        import psutil

        self.pid = pid
        self._process = psutil.Process(pid)
        self._stop = threading.Event()
        self.baseline = 0
        self.peak = 0

    def __enter__(self) -> PeakMemory:
        self.baseline = self.peak = self._process.memory_info().rss
        self._reset_high_water_mark()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._high_water_mark() or 0)

    @property
    def growth(self) -> int:
        """Peak minus start, in bytes."""
        return self.peak - self.baseline

    def _sample(self) -> None:
        while not self._stop.wait(self.INTERVAL):
            try:
                self.peak = max(self.peak, self._process.memory_info().rss)
            except Exception:  # the process ended: its last samples stand
                return

    def _reset_high_water_mark(self) -> None:
        with contextlib.suppress(OSError):
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def _high_water_mark(self) -> int | None:
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return None


def add_voice_memory(server: ServerProcess, files: list[tuple[str, bytes]],
                     api_key: str | None = None) -> tuple[int, requests.Response]:
    """Add a voice from ``files`` (name, WAV bytes); return the server's memory growth
    (bytes) during the request and the response."""
    assert server.process is not None
    parts = [("files", (name, data, "audio/wav")) for name, data in files]
    with PeakMemory(server.process.pid) as peak:
        response = requests.post(f"{server.base_url}/v1/voices/add", data={"name": "Long"},
                                 files=parts, headers=auth_headers(api_key),
                                 timeout=UPLOAD_TIMEOUT)
    return peak.growth, response


def voice_memory_growth(seconds: float = 600.0, rate: int = 16000) -> int:
    """Server memory growth (bytes) while it adds one voice from a ``seconds`` long WAV.

    Raises
    ------
    requests.HTTPError
        When the server does not add the voice.
    """
    with tempfile.TemporaryDirectory() as data_dir, ServerProcess(Path(data_dir)) as server:
        wav = repeated_wav(speech_pcm(server.base_url, rate), rate, seconds)
        growth, response = add_voice_memory(server, [("long.wav", wav)])
        response.raise_for_status()
        return growth


if __name__ == "__main__":
    print(f"server memory growth for one 600 s sample: {voice_memory_growth() / 1e6:.1f} MB")
