"""Which speech engines the server has, and what each one can do.

Every engine module declares one ``ENGINE = EngineInfo(...)``: its name (what
``VoiceSpec.engine`` says), how to build it, and its capabilities. The synthesizer, the catalog
and the service ask this registry instead of testing engine names, so adding an engine is its
module plus one line in ``_BUILTIN_MODULES`` (or one ``register(...)`` call for an engine that
lives outside the package).

The built-in engine modules are imported on the first lookup, not when this module is: their
imports (onnxruntime, piper) cost about half a second, and code that only reads the catalog
never pays it. Models and libraries load later still, at ``Synthesizer.warm_up``.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..text import FIRST_CHUNK_MAX_WORDS
from .base import Engine, VoiceSpec

# The engines that ship with the server, by module (each defines ``ENGINE``), in the order
# they are listed and warmed up.
_BUILTIN_MODULES = (
    "xiwidgets.server.engines.piper_engine",
    "xiwidgets.server.engines.espeak_engine",
    "xiwidgets.server.engines.kokoro_engine",
)


class UnknownEngineError(ValueError):
    """A voice names an engine that is not registered."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown speech engine {name!r}")


@dataclass(frozen=True)
class EngineInfo:
    """One speech engine: its name, how to build it, and what it can do.

    Every engine gets text one clause at a time (see ``base.Engine``), so every engine
    streams by clause; the capabilities below are the ones that differ between engines.

    Parameters
    ----------
    name : str
        The engine's name, as ``VoiceSpec.engine`` gives it.
    create : callable
        Builds the engine without loading models (``Engine.load`` does that).
    voices : mapping of str to str
        For each language the engine speaks (ISO 639-1), the engine voice that reads it when
        a voice must switch language (an English-only model reading a French voice's text).
    sample_rate : int
        Samples per second of the engine's audio.
    aligns_characters : bool
        Character times follow the speech (rather than being spread evenly over the clause).
    repeats_seed : bool
        The same seed, text and settings give byte-identical audio.
    native_speed : bool
        ``SynthesisSettings.speed`` changes the speaking rate inside the engine (durations
        scale as 1/speed, pitch unchanged).
    bases_clones : bool
        Voices cloned from samples may be built on this engine's voices (it honours
        ``VoiceSpec.pitch_factor`` and ``rate_factor``).
    warm_up_voice : VoiceSpec or None
        A voice to speak once at warm-up, for engines whose first synthesis is slower than
        the rest; None when loading is enough.
    seed_changes_audio : bool
        The engine draws noise from the seed, so other seeds give other audio; False for a
        deterministic engine, whose takes depend on text, voice and settings alone.
    first_chunk_words : int
        Most words of a take's first clause (``text.split_clauses``): an engine that is
        slower per word starts with fewer, so its first audio comes as soon as a faster one's.
    """

    name: str
    create: Callable[[], Engine]
    voices: Mapping[str, str]
    sample_rate: int
    aligns_characters: bool
    repeats_seed: bool
    native_speed: bool
    bases_clones: bool
    warm_up_voice: VoiceSpec | None = None
    seed_changes_audio: bool = True
    first_chunk_words: int = FIRST_CHUNK_MAX_WORDS

    @property
    def languages(self) -> tuple[str, ...]:
        """The ISO 639-1 codes of the languages the engine speaks."""
        return tuple(self.voices)

    @property
    def multilingual(self) -> bool:
        """Whether the engine speaks more than one language."""
        return len(self.voices) > 1


_lock = threading.Lock()
_engines: dict[str, EngineInfo] = {}
_builtins_registered = False


def register(info: EngineInfo) -> None:
    """Add an engine; ValueError when an engine of that name is already registered."""
    _register_builtins()
    with _lock:
        if info.name in _engines:
            raise ValueError(f"a speech engine named {info.name!r} is already registered")
        _engines[info.name] = info


def unregister(name: str) -> None:
    """Remove the engine called ``name``; ``UnknownEngineError`` for an unknown one."""
    _register_builtins()
    with _lock:
        if _engines.pop(name, None) is None:
            raise UnknownEngineError(name)


def registered_engines() -> list[EngineInfo]:
    """Every registered engine, built-in ones first, in registration order."""
    _register_builtins()
    with _lock:
        return list(_engines.values())


def find_engine(name: str) -> EngineInfo | None:
    """The engine called ``name``, or None."""
    _register_builtins()
    with _lock:
        return _engines.get(name)


def engine_info(name: str) -> EngineInfo:
    """The engine called ``name``; ``UnknownEngineError`` (a ValueError) for an unknown one."""
    info = find_engine(name)
    if info is None:
        raise UnknownEngineError(name)
    return info


def _register_builtins() -> None:
    global _builtins_registered
    if _builtins_registered:
        return
    # Imported outside the lock: Python's import lock already runs each module once, and
    # holding ours across a half-second import would stall every other lookup.
    modules = [importlib.import_module(path) for path in _BUILTIN_MODULES]
    with _lock:
        if not _builtins_registered:
            for module in modules:
                _engines[module.ENGINE.name] = module.ENGINE
            _builtins_registered = True
