"""The server's services, built once per run: what the routes are given to work with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from xiwidgets.server.concurrency import Concurrency
from xiwidgets.server.config import ServerConfig
from xiwidgets.server.store import Store
from xiwidgets.server.take_service import TakeService
from xiwidgets.server.voice_design import VoiceDesignService
from xiwidgets.server.voices import VoiceRegistry

if TYPE_CHECKING:
    from xiwidgets.server.engines import Synthesizer


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
    synthesizer : Synthesizer
        The engines.
    voice_design : VoiceDesignService
        Designs voices from descriptions and keeps their previews.
    """

    config: ServerConfig
    store: Store
    concurrency: Concurrency
    voices: VoiceRegistry
    takes: TakeService
    synthesizer: Synthesizer
    voice_design: VoiceDesignService

    @classmethod
    def build(cls, config: ServerConfig, store: Store) -> Services:
        """Wire the services over an open store (refunds takes a killed run left reserved)."""
        from xiwidgets.server.engines import Synthesizer

        synthesizer = Synthesizer()
        concurrency = Concurrency(config.max_concurrent_syntheses, config.max_websocket_sessions)
        voices = VoiceRegistry(config, store, synthesizer, concurrency.synthesis_slots)
        takes = TakeService(store, synthesizer, concurrency, voices)
        voice_design = VoiceDesignService(config, store, synthesizer, concurrency)
        return cls(config, store, concurrency, voices, takes, synthesizer, voice_design)

    def warm_up(self) -> None:
        """Load the engines so the first request pays no model load."""
        self.synthesizer.warm_up()
