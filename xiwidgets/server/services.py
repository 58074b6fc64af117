"""The server's services, built once per run: what the routes are given to work with."""

from __future__ import annotations

from dataclasses import dataclass
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
            self.synthesizer.preload()

    def close(self) -> None:
        """Stop the previews being made and the synthesis workers, if the engines run in any."""
        from xiwidgets.server.workers import WorkerPool

        self.voice_design.close()
        if isinstance(self.synthesizer, WorkerPool):
            self.synthesizer.close()
