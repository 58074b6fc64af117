"""espeak-ng voices in process through ctypes (library and data from ``espeakng-loader``).

espeak-ng keeps one global state (current voice, parameters, callback), so every call into
it runs under one process-wide lock. Synthesis is synchronous: ``espeak_Synth`` calls our
callback with audio buffers and events; word events carry the word's character position in
the text and its audio position, which gives the alignment.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import espeakng_loader
import numpy as np

from .alignment import CharTimes, times_for_words
from .base import ClauseAudio, PhonemeWord, SynthesisSettings, VoiceSpec
from .dsp import varispeed
from .espeak_fresh import FreshEspeakSession
from .registry import EngineInfo

if TYPE_CHECKING:
    from ..audio import FloatAudio, Int16Audio

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_PHONEME_INPUT = 0x100  # espeakPHONEMES: "[[ ... ]]" in the text is espeak phoneme mnemonics
_PHONEMES_IPA = 0x02
_PHONEME_SEPARATOR = ord("_") << 8
# With phoneme input on, only a pronunciation rule's words are "[[ ]]" blocks.
_NO_PHONEME_MARKUP = str.maketrans("[]", "()")
_POS_CHARACTER = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH, _PARAM_RANGE = 1, 2, 3, 4
_DEFAULT_RATE_WPM = 175
_MIN_RATE_WPM, _MAX_RATE_WPM = 80, 450


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)

# espeak-ng is a process-wide singleton: one library handle, one lock, for every engine object.
_LOCK = threading.Lock()
_library: ctypes.CDLL | None = None
_library_rate = 0


def _load_library() -> tuple[ctypes.CDLL, int]:
    global _library, _library_rate
    if _library is None:
        library = ctypes.CDLL(espeakng_loader.get_library_path())
        library.espeak_Initialize.restype = ctypes.c_int
        library.espeak_Initialize.argtypes = [
            ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int
        ]
        library.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        library.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        library.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        library.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        library.espeak_TextToPhonemes.restype = ctypes.c_char_p
        library.espeak_TextToPhonemes.argtypes = [
            ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int
        ]
        library.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
        ]
        data_path = espeakng_loader.get_data_path().encode()
        rate = library.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, _INITIALIZE_DONT_EXIT
        )
        if rate <= 0:
            raise RuntimeError(f"espeak-ng failed to initialize (code {rate})")
        _library, _library_rate = library, rate
    return _library, _library_rate


class EspeakEngine:
    """Synthesize clauses with espeak-ng voices."""

    def __init__(self) -> None:
        self.sample_rate = 22050
        # Kept on the instance so ctypes does not free the trampoline while espeak holds it.
        self._callback = _SYNTH_CALLBACK(self._on_audio)
        self._buffers: list[Int16Audio] = []
        self._words: list[tuple[int, int, float]] = []  # (char index, length, seconds)

    def load(self) -> None:
        """Initialize the espeak-ng library (once per process)."""
        with _LOCK:
            self.sample_rate = _load_library()[1]

    def seeded_session(self) -> FreshEspeakSession:
        """A freshly loaded espeak-ng in a child process, for one seeded take.

        espeak-ng carries state from call to call, so only a fresh one repeats a seeded take
        byte for byte (see ``espeak_fresh``); unseeded takes stay in process, where it is
        fastest.
        """
        return FreshEspeakSession()

    def synthesize_clause(
        self,
        text: str,
        voice: VoiceSpec,
        settings: SynthesisSettings,
        seed: int,
        phonemes: Sequence[PhonemeWord] = (),
    ) -> ClauseAudio:
        """Synthesize one clause (see ``ClauseSpeaker.synthesize_clause``).

        ``voice.engine_voice`` and ``voice.variant`` select the espeak voice; ``pitch_factor``
        is applied by varispeed and ``rate_factor`` through the rate. ``settings.speed`` sets
        the rate (words per minute) and ``settings.stability`` the pitch range. ``seed`` seeds
        espeak-ng's noise generator (aspiration and fricative noise). ``phonemes`` reach
        espeak-ng as ``[[ ]]`` mnemonics of the voice's own phoneme set (``PhonemeMnemonics``).
        """
        name = voice.engine_voice + (f"+{voice.variant}" if voice.variant else "")
        rate = _DEFAULT_RATE_WPM * settings.speed * voice.rate_factor / voice.pitch_factor
        pitch_range = round(10 + 80 * (1.0 - settings.stability))
        with _LOCK:
            library, sample_rate = _load_library()
            self.sample_rate = sample_rate
            if library.espeak_SetVoiceByName(name.encode()) != 0:
                raise ValueError(f"espeak-ng has no voice named {name!r}")
            marked = _MarkedText(text, phonemes, _mnemonics(library, voice.engine_voice))
            encoded = marked.text.encode("utf-8") + b"\0"
            flags = _CHARS_UTF8 | (_PHONEME_INPUT if phonemes else 0)
            library.espeak_SetParameter(
                _PARAM_RATE, int(np.clip(round(rate), _MIN_RATE_WPM, _MAX_RATE_WPM)), 0
            )
            library.espeak_SetParameter(_PARAM_RANGE, pitch_range, 0)
            library.espeak_SetParameter(_PARAM_VOLUME, 100, 0)
            library.espeak_SetSynthCallback(self._callback)
            # Breath and Klatt noise come from espeak-ng's own generator: seed it per clause.
            library.espeak_ng_SetRandSeed(seed)
            self._buffers, self._words = [], []
            library.espeak_Synth(encoded, len(encoded), 0, _POS_CHARACTER, 0, flags, None, None)
            buffers, words = self._buffers, [marked.word_as_sent(*word) for word in self._words]
            self._buffers, self._words = [], []
        samples = (
            np.concatenate(buffers).astype(np.float32) / 32768.0
            if buffers
            else np.zeros(0, dtype=np.float32)
        )
        times = self._char_times(text, words, samples)
        if voice.pitch_factor != 1.0:
            samples = varispeed(samples, self.sample_rate, voice.pitch_factor)
            times = times.scaled(1.0 / voice.pitch_factor)
        return ClauseAudio(samples, self.sample_rate, times.starts, times.ends)

    def _on_audio(
        self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]
    ) -> int:
        if count > 0:
            self._buffers.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_WORD:
                # text_position counts characters from 1.
                self._words.append(
                    (event.text_position - 1, event.length, event.audio_position / 1000.0)
                )
            index += 1
        return 0

    def _char_times(
        self, text: str, words: list[tuple[int, int, float]], samples: FloatAudio
    ) -> CharTimes:
        duration = len(samples) / self.sample_rate
        spans: list[tuple[int, int]] = []
        starts: list[float] = []
        for position, length, start in sorted(words):
            first = min(max(position, spans[-1][1] if spans else 0), len(text))
            spans.append((first, min(max(position + length, first), len(text))))
            starts.append(start)
        speech_end = _last_sound_second(samples, self.sample_rate)
        word_times = []
        for index, start in enumerate(starts):
            end = starts[index + 1] if index + 1 < len(starts) else max(speech_end, start)
            word_times.append((start, end))
        return times_for_words(len(text), spans, word_times, duration)


class PhonemeMnemonics:
    """IPA → espeak-ng phoneme mnemonics of one voice, learnt from espeak-ng itself.

    espeak-ng reads phoneme input only in its own mnemonics (``t@m'eItoU``), one set per
    language. It also writes both notations, phoneme by phoneme: the voice phonemizes words
    covering its phonemes once in each, and the pairs are the table. Unknown IPA symbols are
    looked up without (or with) a length mark, and dropped if still unknown.

    Parameters
    ----------
    pairs : iterable of (str, str)
        ``(ipa, mnemonic)`` of single phonemes, stress marks removed.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.table = {"ˈ": "'", "ˌ": ",", " ": " "}
        for ipa, mnemonic in pairs:
            self.table.setdefault(ipa, mnemonic)
        self._longest = max(map(len, self.table))

    def convert(self, ipa: str) -> str:
        """The mnemonics of ``ipa`` (greedy longest match, symbol by symbol)."""
        out = []
        position = 0
        while position < len(ipa):
            for size in range(min(self._longest, len(ipa) - position), 0, -1):
                symbol = ipa[position : position + size]
                mnemonic = self.table.get(symbol)
                if mnemonic is None and size == 1:
                    mnemonic = self.table.get(symbol + "ː", "")
                elif mnemonic is None and symbol.endswith("ː"):
                    mnemonic = self.table.get(symbol[:-1])
                if mnemonic is not None:
                    out.append(mnemonic)
                    position += size
                    break
        return "".join(out)


# Words whose phonemes cover a language's inventory well enough (English's fully; other
# languages' vowels and consonants largely, as espeak spells them out letter by letter).
_INVENTORY_WORDS = (
    "father bit beat bet bat but bought boot book bird about bite bait boat bout boy beer bear "
    "bar bore tour cure hot pat tap dab cat gap fat vat thin then sit zip ship measure hat "
    "chip jam map nap sing lap rap wet yet water little button hello sofa ago garden"
)
_mnemonic_tables: dict[str, PhonemeMnemonics] = {}


def _mnemonics(library: ctypes.CDLL, engine_voice: str) -> PhonemeMnemonics:
    """The voice's table (made once per voice, under ``_LOCK``, with the voice already set)."""
    table = _mnemonic_tables.get(engine_voice)
    if table is None:
        mnemonic = _text_to_phonemes(library, _INVENTORY_WORDS, _PHONEME_SEPARATOR)
        ipa = _text_to_phonemes(library, _INVENTORY_WORDS, _PHONEMES_IPA | _PHONEME_SEPARATOR)
        pairs = []
        for ipa_word, mnemonic_word in zip(ipa.split(), mnemonic.split(), strict=False):
            ipa_symbols, mnemonic_symbols = ipa_word.split("_"), mnemonic_word.split("_")
            if len(ipa_symbols) == len(mnemonic_symbols):
                pairs += [
                    (i.lstrip("ˈˌ"), m.lstrip("',"))
                    for i, m in zip(ipa_symbols, mnemonic_symbols, strict=True)
                ]
        table = _mnemonic_tables[engine_voice] = PhonemeMnemonics(pairs)
    return table


def _text_to_phonemes(library: ctypes.CDLL, text: str, mode: int) -> str:
    buffer = ctypes.create_string_buffer(text.encode("utf-8") + b"\0")
    pointer = ctypes.c_char_p(ctypes.addressof(buffer))
    clauses = []
    while pointer.value:
        clauses.append((library.espeak_TextToPhonemes(ctypes.byref(pointer), _CHARS_UTF8, mode)
                        or b"").decode("utf-8", "replace"))
    return " ".join(clauses)


class _MarkedText:
    """A clause with its phoneme words as ``[[mnemonics]]``, and word positions mapped back."""

    def __init__(
        self, text: str, phonemes: Sequence[PhonemeWord], mnemonics: PhonemeMnemonics
    ) -> None:
        pieces = []
        # (start in the marked text, end there, the word's start and end in ``text``)
        self._blocks: list[tuple[int, int, int, int]] = []
        position = length = 0
        for word in phonemes:
            before = text[position : word.start].translate(_NO_PHONEME_MARKUP)
            block = f"[[{mnemonics.convert(word.ipa)}]]"
            length += len(before)
            self._blocks.append((length, length + len(block), word.start, word.end))
            pieces += [before, block]
            length += len(block)
            position = word.end
        rest = text[position:]
        pieces.append(rest.translate(_NO_PHONEME_MARKUP) if phonemes else rest)
        self.text = "".join(pieces)

    def word_as_sent(self, position: int, length: int, seconds: float) -> tuple[int, int, float]:
        """A word event's ``(position, length, seconds)`` in the clause as given."""
        shift = 0
        for start, end, text_start, text_end in self._blocks:
            if position >= end:
                shift = end - text_end
            elif position >= start:
                return text_start, text_end - text_start, seconds
            else:
                break
        return position - shift, length, seconds


def _last_sound_second(samples: FloatAudio, sample_rate: int) -> float:
    """Second at which the audio last rises above -40 dBFS (where the speech ends)."""
    loud = np.flatnonzero(np.abs(samples) > 0.01)
    return (loud[-1] + 1) / sample_rate if len(loud) else 0.0


ENGINE = EngineInfo(
    name="espeak",
    create=EspeakEngine,
    # espeak-ng speaks about a hundred languages; these are the ones the catalog offers.
    voices={
        "en": "en-us", "fr": "fr", "de": "de", "es": "es", "it": "it", "pt": "pt",
        "nl": "nl", "pl": "pl", "hi": "hi", "sv": "sv",
    },
    sample_rate=22050,
    aligns_characters=True,
    repeats_seed=True,
    native_speed=True,
    bases_clones=True,
)
