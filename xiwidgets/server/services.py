"""The server's services, built once per run: what the routes are given to work with."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xiwidgets.server.concurrency import Concurrency
from xiwidgets.server.config import ServerConfig
from xiwidgets.server.pronunciation import PronunciationDictionaries
from xiwidgets.server.speech_recognition import SpeechRecognizer
from xiwidgets.server.speech_service import SpeechService
from xiwidgets.server.store import Store
from xiwidgets.server.take_service import TakeService
from xiwidgets.server.voice_design import VoiceDesignService
from xiwidgets.server.voices import VoiceRegistry

if TYPE_CHECKING:
    from xiwidgets.server.workers import SpeechMaker


# The longest a load is waited for on close (Kokoro's takes ~4 s idle, ~30 s on busy cores).
_LOAD_WAIT_S = 120.0


@dataclass(frozen=True)
class Services:
    """Everything a route may reach, shared by all requests of one server run.

    Attributes
    ----------
    config : ServerConfig
        The settings the server runs with.
    store : Store
        Persistent state (history, usage, account, keys).
    concurrency : Concurrency
        Synthesis slots (``concurrency.synthesis_slots`` counts running syntheses), takes in
        flight, websocket sessions.
    voices : VoiceRegistry
        Premade and added voices, cloning, previews.
    takes : TakeService
        Plans, produces and bills takes.
    synthesizer : Synthesizer or WorkerPool
        The engines: in this process (``workers=1``), or in worker processes.
    pronunciation : PronunciationDictionaries
        Pronunciation dictionaries and the lexicon of a request's locators.
    speech : SpeechService
        Speech to text and forced alignment (Whisper, loaded on first use).
    voice_design : VoiceDesignService
        Designs voices from descriptions and keeps their previews.
    loading : list of threading.Thread
        Models loading in the background (``preload_voices``), waited for on close.
    """

    config: ServerConfig
    store: Store
    concurrency: Concurrency
    voices: VoiceRegistry
    takes: TakeService
    synthesizer: SpeechMaker
    pronunciation: PronunciationDictionaries
    speech: SpeechService
    voice_design: VoiceDesignService
    loading: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def build(cls, config: ServerConfig, store: Store) -> Services:
        """Wire the services over an open store (refunds takes a killed run left reserved)."""
        synthesizer: SpeechMaker
        if config.workers >= 2:
            from xiwidgets.server.workers import WorkerPool

            synthesizer = WorkerPool(config.workers, config.warm_up, config.worker_timeout_s)
            # One synthesis per worker process at a time.
            syntheses = config.workers
        else:
            from xiwidgets.server.engines import Synthesizer

            synthesizer = Synthesizer()
            syntheses = config.max_concurrent_syntheses
        concurrency = Concurrency(syntheses, config.max_websocket_sessions,
                                  config.max_concurrent_requests)
        voices = VoiceRegistry(config, store, synthesizer, concurrency.synthesis_slots)
        takes = TakeService(store, synthesizer, concurrency, voices)
        pronunciation = PronunciationDictionaries(store)
        speech = SpeechService(config, SpeechRecognizer())
        voice_design = VoiceDesignService(config, store, synthesizer, concurrency)
        return cls(
            config,
            store,
            concurrency,
            voices,
            takes,
            synthesizer,
            pronunciation=pronunciation,
            speech=speech,
            voice_design=voice_design,
        )

    def warm_up(self) -> None:
        """Load the engines so the first request pays no model load (see ``ServerConfig``)."""
        self.synthesizer.warm_up()
        if self.config.preload_voices:
            self.loading.extend(self.synthesizer.preload())

    def close(self) -> None:
        """Stop the previews being made and the synthesis workers, if the engines run in any."""
        from xiwidgets.server.workers import WorkerPool

        self.voice_design.close()
        if isinstance(self.synthesizer, WorkerPool):
            self.synthesizer.close()
        # A model still loading when the process ends aborts it (onnxruntime's threads are
        # torn down under it: "terminate called without an active exception", exit 134), so
        # a script that connects and exits at once must wait for the load.
        for thread in self.loading:
            thread.join(_LOAD_WAIT_S)
