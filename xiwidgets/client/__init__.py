"""The ElevenLabs text-to-speech API from Python, hosted or local.

``connect()`` returns a ready :class:`Client`: the hosted API when a key is set, else the bundled
local voice server, started in the background on first use.
"""

from xiwidgets.client.api import Client
from xiwidgets.client.captions import Word
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
from xiwidgets.client.streaming import AudioStream, TimedAudioStream
from xiwidgets.client.types import (
    Alignment,
    BatchItem,
    BatchResult,
    CharacterStats,
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
    "HistoryItem",
    "HistoryPage",
    "InvalidRequest",
    "LocalServerUnavailable",
    "Model",
    "NoAlignmentError",
    "NotFound",
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
    "User",
    "Voice",
    "VoiceDesignResult",
    "VoicePage",
    "VoicePreview",
    "VoiceSettings",
    "Word",
    "XIError",
    "connect",
]
