"""The ElevenLabs text-to-speech API from Python, hosted or local.

``connect()`` returns a ready :class:`Client`: the hosted API when a key is set, else the bundled
local voice server, started in the background on first use.
"""

from xiwidgets.client.api import Client
from xiwidgets.client.captions import Word
from xiwidgets.client.distributed import WorkerConnection
from xiwidgets.client.embedded import LocalServerUnavailable, connect
from xiwidgets.client.errors import (
    AuthenticationError,
    ConnectionFailed,
    InvalidRequest,
    NotFound,
    QuotaExceeded,
    RateLimited,
    ServerError,
    StreamInterrupted,
    XIError,
)
from xiwidgets.client.pronunciation import PronunciationDictionary, PronunciationRule
from xiwidgets.client.realtime_multi import ContextChunk, MultiContextStream
from xiwidgets.client.streaming import AudioStream, TimedAudioStream
from xiwidgets.client.types import (
    Alignment,
    BatchItem,
    BatchResult,
    CharacterStats,
    ForcedAlignment,
    HistoryItem,
    HistoryPage,
    Model,
    NoAlignmentError,
    RealtimeChunk,
    ResponseInfo,
    Subscription,
    Take,
    TimedChunk,
    TimedTake,
    Transcription,
    User,
    Voice,
    VoicePage,
    VoiceSettings,
)
from xiwidgets.client.voice_design import VoiceDesignResult, VoicePreview

__all__ = [
    "Alignment",
    "AudioStream",
    "AuthenticationError",
    "BatchItem",
    "BatchResult",
    "CharacterStats",
    "Client",
    "ConnectionFailed",
    "ContextChunk",
    "ForcedAlignment",
    "HistoryItem",
    "HistoryPage",
    "InvalidRequest",
    "LocalServerUnavailable",
    "Model",
    "MultiContextStream",
    "NoAlignmentError",
    "NotFound",
    "PronunciationDictionary",
    "PronunciationRule",
    "QuotaExceeded",
    "RateLimited",
    "RealtimeChunk",
    "ResponseInfo",
    "ServerError",
    "StreamInterrupted",
    "Subscription",
    "Take",
    "TimedAudioStream",
    "TimedChunk",
    "TimedTake",
    "Transcription",
    "User",
    "Voice",
    "VoiceDesignResult",
    "VoicePage",
    "VoicePreview",
    "VoiceSettings",
    "Word",
    "WorkerConnection",
    "XIError",
    "connect",
]
