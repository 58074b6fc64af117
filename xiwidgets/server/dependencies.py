"""FastAPI dependencies: the one way routes (HTTP and websocket) reach the server's state.

Each takes the connection (a request or a websocket) and returns one service of the running
server; the routes declare them with the ``*Dep`` annotations.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from xiwidgets.server.concurrency import Concurrency
from xiwidgets.server.config import ServerConfig
from xiwidgets.server.pronunciation import PronunciationDictionaries
from xiwidgets.server.services import Services
from xiwidgets.server.speech_service import SpeechService
from xiwidgets.server.store import Store
from xiwidgets.server.take_service import TakeService
from xiwidgets.server.voice_design import VoiceDesignService
from xiwidgets.server.voices import VoiceRegistry


def services(connection: HTTPConnection) -> Services:
    """All services of the server that took this connection (set up by the app's lifespan)."""
    built: Services = connection.app.state.services
    return built


def config(connection: HTTPConnection) -> ServerConfig:
    """The settings the server runs with."""
    return services(connection).config


def store(connection: HTTPConnection) -> Store:
    """The server's store."""
    return services(connection).store


def voice_registry(connection: HTTPConnection) -> VoiceRegistry:
    """The server's voices."""
    return services(connection).voices


def take_service(connection: HTTPConnection) -> TakeService:
    """The service that plans, produces and bills takes."""
    return services(connection).takes


def concurrency(connection: HTTPConnection) -> Concurrency:
    """The server's counters of running work."""
    return services(connection).concurrency


def pronunciation_dictionaries(connection: HTTPConnection) -> PronunciationDictionaries:
    """The server's pronunciation dictionaries."""
    return services(connection).pronunciation
def speech_service(connection: HTTPConnection) -> SpeechService:
    """Speech to text and forced alignment."""
    return services(connection).speech


def voice_design(connection: HTTPConnection) -> VoiceDesignService:
    """The service that designs voices from descriptions."""
    return services(connection).voice_design


ConfigDep = Annotated[ServerConfig, Depends(config)]
StoreDep = Annotated[Store, Depends(store)]
VoicesDep = Annotated[VoiceRegistry, Depends(voice_registry)]
TakesDep = Annotated[TakeService, Depends(take_service)]
ConcurrencyDep = Annotated[Concurrency, Depends(concurrency)]
PronunciationDep = Annotated[PronunciationDictionaries, Depends(pronunciation_dictionaries)]
SpeechDep = Annotated[SpeechService, Depends(speech_service)]
VoiceDesignDep = Annotated[VoiceDesignService, Depends(voice_design)]
