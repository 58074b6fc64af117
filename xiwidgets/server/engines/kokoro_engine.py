"""Kokoro-82M neural voices (int8 ONNX, 24 kHz) through onnxruntime, with the model's durations.

One model speaks every voice: a voice is a style vector (see ``kokoro_assets``), so a voice
may also be a weighted blend of vectors, written ``"af_bella*0.6+af_sarah*0.4"`` (weights
are normalized; see :func:`parse_blend`).

* **Alignment**: the graph computes each phoneme's duration (whole frames of 600 samples)
  but does not output it; at load time the duration tensor is exposed as a graph output, so
  every phoneme's audio span comes from the model itself and word and character times follow
  from it (``alignment.times_for_words``), as for Piper.
* **Seeds**: the graph has no random nodes, so a take depends only on its text, voice and
  speed. A seed changes nothing: the same request repeats byte for byte, seeded or not.
* **Speed**: the graph's own ``speed`` input (durations divided by it); ``stability`` and
  ``style`` have no counterpart in the model and are ignored. A clone's ``rate_factor``
  multiplies the speed and its ``pitch_factor`` is applied by varispeed (``dsp``).
* **G2P**: espeak-ng through ``phonemizer``, which loads a private copy of the espeak-ng
  library for each backend, so its global state is not the one ``espeak_engine`` drives;
  each backend is used under its own lock.
* **Memory and loading**: the voice vectors (~28 MB) load when a blend is first checked or
  mixed; the model (about 360 MB resident, a few seconds) on the first Kokoro take, or in a
  background thread after start when the server is asked to preload (``preload``), so a
  server that never speaks with a Kokoro voice never pays it. One load serves every engine
  object of the process (several servers in one process load the model once).
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import threading
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from xiwidgets.threads import engine_threads

from .alignment import WORD_PATTERN, CharTimes, times_for_words
from .base import ClauseAudio, PhonemeWord, SynthesisSettings, VoiceSpec
from .dsp import varispeed
from .kokoro_assets import AssetError, KokoroAssets, check_assets
from .registry import EngineInfo

if TYPE_CHECKING:
    import onnxruntime

logger = logging.getLogger(__name__)

SAMPLE_RATE = 24000
# The English voice that reads for other voices on English-only models and warms up: the best
# by measurement (benchmarks/voices.py: WER 0 and the highest DNSMOS, 3.46, of the English
# voices on the project's paragraph).
DEFAULT_ENGLISH_VOICE = "af_sarah"
_MIN_SPEED, _MAX_SPEED = 0.5, 2.0
_MAX_PHONEMES = 510
_SENTENCE_PAUSE, _CLAUSE_PAUSE = 0.25, 0.1
_DURATION_OUTPUT = "duration"
_WARM_UP_TEXT = "Ready to read."

# Kokoro voice names start with a language letter: (ISO 639-1, espeak-ng language).
_VOICE_LANGUAGES = {
    "a": ("en", "en-us"), "b": ("en", "en-gb"), "e": ("es", "es"), "f": ("fr", "fr-fr"),
    "h": ("hi", "hi"), "i": ("it", "it"), "p": ("pt", "pt-br"),
}
# The espeak-ng language that reads a language when the voice is from another one.
_ESPEAK_LANGUAGES = {"en": "en-us", "es": "es", "fr": "fr-fr", "hi": "hi", "it": "it",
                     "pt": "pt-br"}
_BLEND_TERM = re.compile(r"^\s*([a-z]{2}_[a-z]+)\s*(?:\*\s*([0-9]*\.?[0-9]+(?:e-?\d+)?))?\s*$")


class KokoroUnavailableError(LookupError):
    """The Kokoro assets are not installed or were refused (the message says how to fix it)."""


class BlendError(ValueError):
    """A voice blend names no voice, an unknown voice, or weights without a positive sum."""


def parse_blend(engine_voice: str, known: Collection[str] | None = None) -> list[tuple[str, float]]:
    """The voices and normalized weights of ``"af_bella*0.6+af_sarah*0.4"`` (or ``"af_bella"``).

    Parameters
    ----------
    engine_voice : str
        ``+``-separated terms ``name`` or ``name*weight`` (a bare name weighs 1).
    known : collection of str, optional
        The voice names that exist; unknown names are refused when given.

    Returns
    -------
    list of (str, float)
        Each voice once, weights summing to 1, in the order given.

    Raises
    ------
    BlendError
        For a malformed term, an unknown or repeated voice, a negative weight, or weights
        that do not sum to a positive number.
    """
    terms = []
    for term in engine_voice.split("+"):
        match = _BLEND_TERM.match(term)
        if match is None:
            raise BlendError(f"{term.strip()!r} is not a Kokoro voice name or name*weight")
        terms.append((match.group(1), float(match.group(2) or 1.0)))
    return normalize_blend(terms, known)


def normalize_blend(
    weights: Mapping[str, float] | Iterable[tuple[str, float]],
    known: Collection[str] | None = None,
) -> list[tuple[str, float]]:
    """Check a blend's voices and weights and scale the weights to sum to 1.

    Parameters
    ----------
    weights : mapping or iterable of (str, float)
        Kokoro voice name → weight (any positive scale: 3 and 1 mean 75 % and 25 %).
    known : collection of str, optional
        The voice names that exist; unknown names are refused when given.

    Returns
    -------
    list of (str, float)
        Each voice once, in the order given, weights summing to 1.

    Raises
    ------
    BlendError
        For no voice, an unknown or repeated voice, a negative or non-finite weight, or
        weights that do not sum to a positive number.
    """
    pairs = list(weights.items()) if isinstance(weights, Mapping) else list(weights)
    if not pairs:
        raise BlendError("a voice blend needs at least one voice")
    seen: dict[str, float] = {}
    for name, weight in pairs:
        if known is not None and name not in known:
            raise BlendError(f"{name!r} is not a Kokoro voice")
        if name in seen:
            raise BlendError(f"{name!r} appears twice in the blend")
        if not math.isfinite(weight) or weight < 0:
            raise BlendError(f"the weight of {name!r} must be a finite number >= 0, not {weight}")
        seen[name] = float(weight)
    total = sum(seen.values())
    if not total > 0:
        raise BlendError("the weights of a voice blend must sum to a positive number")
    return [(name, weight / total) for name, weight in seen.items()]


def format_blend(weights: list[tuple[str, float]]) -> str:
    """The ``engine_voice`` string of a blend (inverse of :func:`parse_blend`)."""
    return "+".join(f"{name}*{weight:.6g}" for name, weight in weights)


@dataclass
class _Runtime:
    """The loaded model and voice vectors, shared by every engine of one assets directory."""

    session: onnxruntime.InferenceSession
    vectors: dict[str, np.ndarray]
    vocab: dict[str, int]


# Held while a runtime or a vector set is built: concurrent first takes wait for one load.
_runtime_lock = threading.Lock()
_runtimes: dict[Path, _Runtime] = {}
_vector_sets: dict[Path, dict[str, np.ndarray]] = {}
_reported_problems: set[str] = set()


def _announce_once(problem: str, missing: bool) -> None:
    """Log why Kokoro is off once per process (servers in one process share the message)."""
    with _runtime_lock:
        if problem in _reported_problems:
            return
        _reported_problems.add(problem)
    if missing:
        logger.warning("%s Joe and the espeak-ng voices work without them.", problem)
    else:
        logger.error(problem)


def _installed(assets_dir: Path | None) -> KokoroAssets:
    status = check_assets(assets_dir)
    if status.assets is None:
        raise KokoroUnavailableError(status.problem)
    return status.assets


def voice_vectors(assets_dir: Path | None = None) -> dict[str, np.ndarray]:
    """Every installed voice's (510, 1, 256) style vector by name (loaded once, ~28 MB).

    Reading the vectors does not load the model, so blends can be checked and mixed in a
    process that never speaks with Kokoro.

    Raises
    ------
    KokoroUnavailableError
        When the assets are not installed or were refused (the message says how to fix it).
    """
    assets = _installed(assets_dir)
    with _runtime_lock:
        vectors = _vector_sets.get(assets.directory)
        if vectors is None:
            with np.load(assets.voices_path, allow_pickle=False) as archive:
                vectors = {name: archive[name] for name in archive.files}
            _vector_sets[assets.directory] = vectors
        return vectors


def mix_voices(
    weights: Mapping[str, float] | Iterable[tuple[str, float]],
    assets_dir: Path | None = None,
) -> np.ndarray:
    """The style vector of a weighted blend of Kokoro voices.

    Parameters
    ----------
    weights : mapping or iterable of (str, float)
        Kokoro voice name (``"af_bella"``) → weight; the weights are normalized to sum to 1
        (see :func:`normalize_blend`), so ``{"af_bella": 1, "am_adam": 1}`` is half of each.
    assets_dir : pathlib.Path, optional
        The assets directory (default: the installed one).

    Returns
    -------
    numpy.ndarray
        float32, shape (510, 1, 256): the weighted sum of the voices' vectors (one style per
        input length, each mixed alike).

    Raises
    ------
    BlendError
        For a blend :func:`normalize_blend` refuses (no voice, unknown voice, bad weights).
    KokoroUnavailableError
        When the assets are not installed or were refused.
    """
    return _mix(voice_vectors(assets_dir), weights)


def _mix(
    vectors: dict[str, np.ndarray], weights: Mapping[str, float] | Iterable[tuple[str, float]]
) -> np.ndarray:
    blend = normalize_blend(weights, vectors.keys())
    mixed = np.zeros_like(vectors[blend[0][0]])
    for name, weight in blend:
        mixed += vectors[name] * np.float32(weight)
    return mixed


def _load_runtime(assets: KokoroAssets) -> _Runtime:
    """The runtime of these assets, built on first use (concurrent callers wait for one)."""
    vectors = voice_vectors(assets.directory)
    with _runtime_lock:
        runtime = _runtimes.get(assets.directory)
        if runtime is None:
            runtime = _runtimes[assets.directory] = _build_runtime(assets, vectors)
        return runtime


def _build_runtime(assets: KokoroAssets, vectors: dict[str, np.ndarray]) -> _Runtime:
    import onnx
    import onnxruntime
    from kokoro_onnx.config import DEFAULT_VOCAB

    model = onnx.load(str(assets.model_path))
    _expose_durations(model)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = engine_threads()
    options.inter_op_num_threads = 1
    # Idle worker threads sleep instead of spinning: on a busy machine spinning burned ~30 %
    # more CPU for the same take, CPU that other requests and engines need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
    )
    del model
    return _Runtime(session, vectors, dict(DEFAULT_VOCAB))


def _expose_durations(model: Any) -> None:
    """Add the rounded per-token durations (the ``Clip`` after ``Round``) as an output."""
    from onnx import TensorProto, helper

    graph = model.graph
    rounded = {node.output[0] for node in graph.node if node.op_type == "Round"}
    clips = [node for node in graph.node if node.op_type == "Clip" and node.input[0] in rounded]
    if len(clips) != 1:
        raise AssetError("the Kokoro model has no single duration tensor to expose")
    graph.node.append(helper.make_node("Identity", [clips[0].output[0]], [_DURATION_OUTPUT]))
    graph.output.append(
        helper.make_tensor_value_info(_DURATION_OUTPUT, TensorProto.FLOAT, None)
    )


class _Phonemizers:
    """One phonemizer espeak backend per language, each with its own library copy and lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._backends: dict[str, tuple[Any, threading.Lock]] = {}

    def phonemize(self, text: str, language: str) -> str:
        backend, lock = self._backend(language)
        with lock:
            return str(backend.phonemize([text], strip=True)[0])

    def _backend(self, language: str) -> tuple[Any, threading.Lock]:
        with self._lock:
            if language not in self._backends:
                import espeakng_loader
                from phonemizer.backend import EspeakBackend
                from phonemizer.backend.espeak.wrapper import EspeakWrapper

                EspeakWrapper.set_library(espeakng_loader.get_library_path())
                EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
                backend = EspeakBackend(
                    language, preserve_punctuation=True, with_stress=True,
                    language_switch="remove-flags",
                )
                self._backends[language] = (backend, threading.Lock())
            return self._backends[language]


_PHONEMIZERS = _Phonemizers()


def espeak_language(voice: VoiceSpec) -> str:
    """The espeak-ng language that reads ``voice``'s text (the voice's own accent if it can)."""
    first = voice.engine_voice.split("+")[0].strip()[:1]
    own = _VOICE_LANGUAGES.get(first)
    if own is not None and own[0] == voice.language:
        return own[1]
    if voice.language not in _ESPEAK_LANGUAGES:
        raise ValueError(f"the Kokoro voices do not speak language {voice.language!r}")
    return _ESPEAK_LANGUAGES[voice.language]


class KokoroEngine:
    """Synthesize clauses with the Kokoro voices (see the module docstring)."""

    sample_rate = SAMPLE_RATE

    def __init__(self, assets_dir: Path | None = None) -> None:
        self._assets_dir = assets_dir
        self._runtime: _Runtime | None = None

    def load(self) -> None:
        """Check the assets; without them, say once how to add them.

        The model itself loads on the first Kokoro take (or :meth:`preload`), so a server
        that never speaks with a Kokoro voice never pays its memory and load time. Missing or
        refused assets leave the engine off (its voices are then not offered; see
        ``catalog``), with one log line naming the problem and the command that fixes it.
        """
        status = check_assets(self._assets_dir)
        if status.assets is None:
            _announce_once(status.problem or "", status.missing)

    def preload(self) -> threading.Thread | None:
        """Load and warm the model up in a background thread (None without the assets).

        A take that arrives before the load ends waits for it; the server answers other
        requests meanwhile.
        """
        if check_assets(self._assets_dir).assets is None:
            return None
        thread = threading.Thread(
            target=self._preload, name="kokoro-preload", daemon=True
        )
        thread.start()
        return thread

    def _preload(self) -> None:
        try:
            runtime = self._loaded()
            # The model's first run costs several normal runs (allocations, kernel set-up):
            # paid here, not by the first take. A take that loads the model itself pays it once.
            _speak(runtime, _WARM_UP_TEXT, VoiceSpec("kokoro", DEFAULT_ENGLISH_VOICE, "en"),
                   SynthesisSettings())
        except (KokoroUnavailableError, AssetError) as error:
            _announce_once(str(error), missing=False)
        except Exception:
            # A short script (connect, list the voices, exit) ends while this thread is still
            # importing the G2P, whose imports then fail ("can't register atexit after
            # shutdown"): there is nothing left to warm up for, and no traceback to print.
            if threading.main_thread().is_alive():
                raise

    def seeded_session(self) -> contextlib.nullcontext[KokoroEngine]:
        """This engine itself: its takes depend on nothing but their inputs."""
        return contextlib.nullcontext(self)

    def _loaded(self) -> _Runtime:
        if self._runtime is None:
            self._runtime = _load_runtime(_installed(self._assets_dir))
        return self._runtime

    def style_vector(self, engine_voice: str) -> np.ndarray:
        """The (510, 1, 256) style of a voice or blend (see :func:`parse_blend`)."""
        return _mix(voice_vectors(self._assets_dir), parse_blend(engine_voice))

    def synthesize_clause(
        self,
        text: str,
        voice: VoiceSpec,
        settings: SynthesisSettings,
        seed: int,
        phonemes: Sequence[PhonemeWord] = (),
    ) -> ClauseAudio:
        """Synthesize one clause (see ``ClauseSpeaker.synthesize_clause``).

        ``voice.engine_voice`` is a Kokoro voice name or blend and ``voice.language`` picks the
        G2P; ``settings.speed`` (times ``voice.rate_factor``) is the model's speed, clipped to
        0.5–2, and a clone's ``voice.pitch_factor`` is applied by varispeed, as for Piper.
        ``seed`` is unused: the model is deterministic. Character times come from the model's
        phoneme durations. ``phonemes`` (IPA, which the model reads) are spliced into the G2P's
        output in place of the word's own.
        """
        return _speak(self._loaded(), text, voice, settings, phonemes)


def _speak(
    runtime: _Runtime,
    text: str,
    voice: VoiceSpec,
    settings: SynthesisSettings,
    words: Sequence[PhonemeWord] = (),
) -> ClauseAudio:
    """One clause with a loaded runtime (see ``KokoroEngine.synthesize_clause``)."""
    style = _mix(runtime.vectors, parse_blend(voice.engine_voice))
    # As for Piper: varispeed raises the pitch by pitch_factor and shortens by as much, so the
    # model speaks pitch_factor slower first; rate_factor and speed then set the tempo.
    speed = settings.speed * voice.rate_factor / voice.pitch_factor
    speed = float(np.clip(speed, _MIN_SPEED, _MAX_SPEED))
    phonemes = _phonemes_with_words(text, words, espeak_language(voice))
    phonemes = "".join(p for p in " ".join(phonemes.split()) if p in runtime.vocab)
    from kokoro_onnx.chunker import pause_after, split_phonemes

    pieces: list[np.ndarray] = []
    spans: list[tuple[str, int, int]] = []  # (phoneme, start sample, end sample)
    offset = 0
    for batch in split_phonemes(phonemes, _MAX_PHONEMES) if phonemes else []:
        audio, edges = _run(runtime, batch, style, speed)
        spans += [(p, offset + edges[i], offset + edges[i + 1]) for i, p in enumerate(batch)]
        pause = np.zeros(
            int(pause_after(batch, _SENTENCE_PAUSE, _CLAUSE_PAUSE) * SAMPLE_RATE),
            dtype=np.float32,
        )
        pieces += [audio, pause]
        offset += len(audio) + len(pause)
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    times = _char_times(text, spans, len(samples))
    if voice.pitch_factor != 1.0:
        samples = varispeed(samples, SAMPLE_RATE, voice.pitch_factor)
        times = times.scaled(1.0 / voice.pitch_factor)
    return ClauseAudio(samples, SAMPLE_RATE, times.starts, times.ends)


def _run(
    runtime: _Runtime, phonemes: str, style: np.ndarray, speed: float
) -> tuple[np.ndarray, list[int]]:
    """Audio of one batch, silence trimmed, and the sample edge of every phoneme."""
    from kokoro_onnx.sliding import token_edges
    from kokoro_onnx.trim import trim

    tokens = [runtime.vocab[p] for p in phonemes]
    audio, durations = runtime.session.run(
        None,
        {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": style[min(len(tokens), len(style)) - 1],
            "speed": np.array([speed], dtype=np.float32),
        },
    )
    audio = np.asarray(audio, dtype=np.float32).ravel()
    # Boundaries of [pad, *tokens, pad]; dropping the first makes index i phoneme i's start.
    edges = token_edges(np.asarray(durations).ravel().astype(np.int64), len(audio))[1:]
    trimmed, (head, _) = trim(audio)
    edges = np.clip(edges - head, 0, len(trimmed))
    return trimmed, [int(edge) for edge in edges]


def _phonemes_with_words(text: str, words: Sequence[PhonemeWord], language: str) -> str:
    """The G2P's phonemes of ``text``, with each phoneme word's own IPA in its place."""
    pieces = []
    position = 0
    for word in [*words, PhonemeWord(len(text), len(text), "")]:
        between = text[position : word.start]
        if between.strip():
            pieces.append(_PHONEMIZERS.phonemize(between, language))
        pieces.append(word.ipa)
        position = word.end
    return " ".join(piece for piece in pieces if piece)


def _is_word_phoneme(phoneme: str) -> bool:
    return not phoneme.isspace() and not unicodedata.category(phoneme).startswith("P")


def _char_times(text: str, spans: list[tuple[str, int, int]], total_samples: int) -> CharTimes:
    """Character times from phoneme spans: word by word when espeak's words match the text's."""
    words: list[tuple[int, int]] = []
    inside = False
    for phoneme, start, end in spans:
        if _is_word_phoneme(phoneme):
            if inside:
                words[-1] = (words[-1][0], end)
            else:
                words.append((start, end))
            inside = True
        else:
            inside = False
    text_words = [match.span() for match in re.finditer(WORD_PATTERN, text)]
    if len(words) != len(text_words) and words:
        words = _spread(words, text_words)
    elif not words:
        words = [(0, 0)] * len(text_words)
    word_times = [(start / SAMPLE_RATE, end / SAMPLE_RATE) for start, end in words]
    return times_for_words(len(text), text_words, word_times, total_samples / SAMPLE_RATE)


def _spread(
    spoken: list[tuple[int, int]], text_words: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Word spans when espeak's words differ from the text's (numbers, abbreviations).

    Each text word gets a share of the spoken words, in order, in proportion to its length.
    """
    lengths = np.array([end - start for start, end in text_words], dtype=float)
    bounds = np.concatenate([[0.0], np.cumsum(lengths)]) / lengths.sum() * len(spoken)
    spans = []
    for index in range(len(text_words)):
        first = min(int(bounds[index]), len(spoken) - 1)
        last = max(first, min(int(np.ceil(bounds[index + 1])) - 1, len(spoken) - 1))
        spans.append((spoken[first][0], spoken[last][1]))
    return spans


ENGINE = EngineInfo(
    name="kokoro",
    create=KokoroEngine,
    voices={"en": DEFAULT_ENGLISH_VOICE, "es": "ef_dora", "fr": "ff_siwis", "hi": "hf_alpha",
            "it": "if_sara", "pt": "pf_dora"},
    sample_rate=SAMPLE_RATE,
    aligns_characters=True,
    repeats_seed=True,
    native_speed=True,
    bases_clones=True,
    # The model warms itself up when it loads (on first use or preload()).
    warm_up_voice=None,
    seed_changes_audio=False,
    # A Kokoro run costs about 1.2 CPU-seconds whatever its length (mostly the int8
    # ConvInteger of the decoder) plus ~0.2 per word: a first clause of two words instead of
    # six cuts the time to first audio from 7.9x Joe's to 5.0x (benchmarks/voices.py).
    first_chunk_words=2,
)
