"""The newer API operations, one section each (every section by default).

1. ``dialogue``: time to the first audio bytes of ``/v1/text-to-dialogue/stream`` (two voices)
   against a single-voice take of the same first line (``/v1/text-to-speech/{id}/stream``),
   alternating, median over ROUNDS runs each (target: dialogue / single ≤ 1.2), against one
   local server in a subprocess.
2. ``speech``: ``POST /v1/forced-alignment`` on Joe takes against the engine's own alignment of
   the same takes (``/with-timestamps``): the median absolute error of the word boundaries
   (every word's start and end), target ≤ 50 ms; ``POST /v1/speech-to-text`` on the same takes:
   word error rate against the text spoken (target ≤ 0.05) and wall time per second of audio
   (target ≤ 0.2), with the CPU seconds per second of audio beside it (a shared machine's wall
   time is mostly waiting for a core). This section's server runs in this process
   (``start_in_thread``) so its CPU time can be read; the Whisper model is loaded by one
   untimed warm-up request first, as a running server would have it.
3. ``design``: three ``POST /v1/text-to-voice/design`` previews of a 100-character text
   (target ≤ 2 s) on a default server (the Kokoro voices when installed) in a subprocess,
   median of ``voice_design.ROUNDS`` after a warm-up, with the server's CPU seconds per
   preview; ``benchmarks/voice_design.py`` has the full table (more set-ups, streaming).

Run: ``.venv/bin/python benchmarks/api.py [section ...]``.
"""

from __future__ import annotations

import base64
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from xiwidgets.client.captions import Word, words_from_alignment
from xiwidgets.client.types import Alignment
from xiwidgets.experiments.metrics import word_error_rate

ROUNDS = 15
CHUNK_SIZE = 1024
FIRST_LINE = "Good morning, did you sleep well last night?"
SECOND_LINE = "Very well, thank you, and you?"

_SERVER_SCRIPT = """
import sys
from xiwidgets.server import start_in_thread
handle = start_in_thread(data_dir=sys.argv[1])
print(handle.base_url, flush=True)
sys.stdin.read()
handle.stop()
"""


def start_server(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    """A local server in its own process, so it does not share the benchmark's interpreter."""
    process = subprocess.Popen([sys.executable, "-c", _SERVER_SCRIPT, str(data_dir)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def first_audio(session: requests.Session, url: str, body: dict) -> float:
    """Seconds from sending the request to its first audio bytes (the take then finishes)."""
    start = time.perf_counter()
    response = session.post(url, json=body, stream=True)
    response.raise_for_status()
    chunks = response.iter_content(chunk_size=CHUNK_SIZE)
    next(chunks)
    elapsed = time.perf_counter() - start
    for _ in chunks:  # finish the take so the next run starts on an idle server
        pass
    return elapsed


def voice_ids(session: requests.Session, base_url: str) -> dict[str, str]:
    voices = session.get(f"{base_url}/v1/voices").json()["voices"]
    return {voice["name"]: voice["voice_id"] for voice in voices}


def dialogue_time_to_first_audio(base_url: str) -> None:
    session = requests.Session()
    ids = voice_ids(session, base_url)
    single_url = f"{base_url}/v1/text-to-speech/{ids['Joe']}/stream"
    single_body = {"text": FIRST_LINE}
    dialogue_url = f"{base_url}/v1/text-to-dialogue/stream"
    dialogue_body = {"inputs": [{"text": FIRST_LINE, "voice_id": ids["Joe"]},
                                {"text": SECOND_LINE, "voice_id": ids["Amelia"]}]}
    runs: dict[str, list[float]] = {"single": [], "dialogue": []}
    measure: dict[str, Callable[[], float]] = {
        "single": lambda: first_audio(session, single_url, single_body),
        "dialogue": lambda: first_audio(session, dialogue_url, dialogue_body),
    }
    for name in measure:  # warm the connection and both voices
        measure[name]()
    for round_number in range(ROUNDS):
        order = ["single", "dialogue"] if round_number % 2 == 0 else ["dialogue", "single"]
        for name in order:
            runs[name].append(measure[name]())
    single, dialogue = (statistics.median(runs[name]) for name in ("single", "dialogue"))
    print("Dialogue: time to first audio (median of "
          f"{ROUNDS}): single voice {single * 1000:.0f} ms, dialogue of two voices "
          f"{dialogue * 1000:.0f} ms, ratio {dialogue / single:.2f} (target ≤ 1.2)")


TEXTS = (
    "Every morning the baker opens her small shop on the corner of the market square. She "
    "sells fresh bread, sweet rolls and apple pies to the people on their way to work.",
    "The old lighthouse stood at the edge of the cliff, its white paint peeling after many "
    "winters of salt and wind. Every evening the keeper climbed the narrow stairs.",
    "Ships passing in the night trusted that light to guide them safely around the rocks, "
    "and the town slept soundly knowing the lamp would never go out.",
    "In the afternoon the shop is quiet, so she cleans the ovens, counts the money and plans "
    "the next day while the radio plays old songs in the back room.",
    # Not used to choose word_boundaries.SEARCH_BACK_SECONDS: a check that it carries over.
    "A small dog waited by the gate every evening until its owner came home from the station.",
    "Please remember to water the tomatoes twice a week, and close the greenhouse door at night "
    "so the frost cannot reach them.",
    "The committee will meet again next Thursday to decide where the new library should be "
    "built, and everyone is welcome to attend.",
    "Rain fell all through the night, and by morning the river had risen over the little "
    "wooden bridge near the mill.",
)
# The first four texts chose the boundary search window; the rest are held out.
TUNING_TEXTS = 4
TARGETS = {"alignment_median_ms": 50.0, "wer": 0.05, "stt_time_per_audio_second": 0.2}


def joe_takes(base_url: str) -> list[tuple[str, bytes, list[Word], float]]:
    """``(text, mp3, engine words, duration)`` for each of :data:`TEXTS`."""
    voices = requests.get(f"{base_url}/v1/voices", timeout=30).json()["voices"]
    joe = next(voice["voice_id"] for voice in voices if voice["name"] == "Joe")
    takes = []
    for text in TEXTS:
        # Seeded, so every run measures the same audio.
        body = requests.post(f"{base_url}/v1/text-to-speech/{joe}/with-timestamps",
                             params={"enable_logging": "false"}, json={"text": text, "seed": 7},
                             timeout=120).json()
        alignment = Alignment.from_dict(body["alignment"])
        assert alignment is not None
        duration = max(alignment.character_end_times_seconds)
        takes.append((text, base64.b64decode(body["audio_base64"]),
                      words_from_alignment(alignment), duration))
    return takes


def _post(base_url: str, path: str, audio: bytes, data: dict[str, str]
          ) -> tuple[Any, float, float]:
    """The JSON answer, the wall seconds it took and the CPU seconds this process spent on it
    (the server runs in this process): on a shared machine the CPU time says what an idle one
    would take, the wall time what this one did."""
    started, cpu = time.perf_counter(), time.process_time()
    response = requests.post(f"{base_url}{path}", files={"file": ("take.mp3", audio)},
                             data=data, timeout=600)
    elapsed, spent = time.perf_counter() - started, time.process_time() - cpu
    response.raise_for_status()
    return response.json(), elapsed, spent


def bench_forced_alignment(base_url: str, takes: list[tuple[str, bytes, list[Word], float]]
                           ) -> dict[str, float]:
    """Word-boundary error of forced alignment against the engine's alignment."""
    errors: list[float] = []
    held_out: list[float] = []
    seconds = audio = cpu = 0.0
    for index, (text, mp3, engine_words, duration) in enumerate(takes):
        body, elapsed, spent = _post(base_url, "/v1/forced-alignment", mp3, {"text": text})
        seconds += elapsed
        cpu += spent
        audio += duration
        for aligned, spoken in zip(body["words"], engine_words, strict=True):
            pair = [abs(aligned["start"] - spoken.start), abs(aligned["end"] - spoken.end)]
            errors += pair
            if index >= TUNING_TEXTS:
                held_out += pair
    starts = errors[0::2]
    figures = {
        "alignment_median_ms": 1000 * statistics.median(errors),
        "alignment_held_out_median_ms": 1000 * statistics.median(held_out),
        "alignment_start_median_ms": 1000 * statistics.median(starts),
        "alignment_p90_ms": 1000 * statistics.quantiles(errors, n=10)[-1],
        "alignment_time_per_audio_second": seconds / audio,
        "alignment_cpu_per_audio_second": cpu / audio,
    }
    print(f"forced alignment: {len(errors) // 2} words, {audio:.1f} s of audio")
    for name, value in figures.items():
        print(f"  {name}: {value:.3f}")
    return figures


def bench_speech_to_text(base_url: str, takes: list[tuple[str, bytes, list[Word], float]]
                         ) -> dict[str, float]:
    """Word error rate and time per second of audio of speech to text."""
    rates: list[float] = []
    seconds = audio = cpu = 0.0
    for text, mp3, _, duration in takes:
        body, elapsed, spent = _post(base_url, "/v1/speech-to-text", mp3,
                                     {"model_id": "scribe_v1"})
        rates.append(word_error_rate(text, body["text"]))
        seconds += elapsed
        cpu += spent
        audio += duration
    figures = {"wer": statistics.mean(rates), "wer_worst": max(rates),
               "stt_time_per_audio_second": seconds / audio,
               "stt_cpu_per_audio_second": cpu / audio}
    print(f"speech to text: {len(takes)} takes, {audio:.1f} s of audio")
    for name, value in figures.items():
        print(f"  {name}: {value:.3f}")
    return figures


def speech_section() -> None:
    """Forced alignment and speech to text, against a server in this process (CPU time)."""
    from xiwidgets.server import start_in_thread

    with tempfile.TemporaryDirectory() as data_dir:
        server = start_in_thread(data_dir=data_dir)
        try:
            takes = joe_takes(server.base_url)
            _post(server.base_url, "/v1/speech-to-text", takes[0][1], {"model_id": "scribe_v1"})
            figures = {**bench_forced_alignment(server.base_url, takes),
                       **bench_speech_to_text(server.base_url, takes)}
        finally:
            server.stop()
    for name, target in TARGETS.items():
        verdict = "ok" if figures[name] <= target else "MISSED"
        print(f"{name}: {figures[name]:.3f} (target ≤ {target}) {verdict}")


def dialogue_section() -> None:
    """Dialogue time to first audio, against a server in its own process."""
    with tempfile.TemporaryDirectory() as data_dir:
        process, base_url = start_server(Path(data_dir))
        try:
            dialogue_time_to_first_audio(base_url)
        finally:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=60)


def design_section() -> None:
    """Three design previews of a 100-character text, against a server in its own process."""
    import psutil
    from voice_design import GOAL_SECONDS, design_rounds
    from voice_design import ROUNDS as DESIGN_ROUNDS
    from voice_design import start_server as start_design_server

    with tempfile.TemporaryDirectory() as data_dir:
        process, base_url = start_design_server(Path(data_dir), {}, {})
        try:
            row = design_rounds(psutil.Process(process.pid), base_url)
        finally:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=60)
    verdict = "ok" if row["design_s"] <= GOAL_SECONDS else "MISSED"
    print(f"design: three previews {row['design_s']:.2f} s (median of {DESIGN_ROUNDS}; target "
          f"≤ {GOAL_SECONDS:g} s) {verdict}; {row['cpu_per_preview_s']:.2f} CPU-s per preview; "
          f"ids only {row['stream_previews_s']:.3f} s, a preview's first stream "
          f"{row['first_stream_ttfb_s']:.2f} s to its first byte, a replay "
          f"{row['replay_ttfb_s']:.3f} s")


SECTIONS: dict[str, Callable[[], None]] = {
    "dialogue": dialogue_section,
    "speech": speech_section,
    "design": design_section,
}


def main(names: list[str]) -> None:
    for name in names or list(SECTIONS):
        SECTIONS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
