"""Every API path the client calls, in one place (relative to the base URL)."""

from __future__ import annotations

from urllib.parse import quote

VOICES = "/v1/voices"
VOICES_V2 = "/v2/voices"
VOICE_DEFAULT_SETTINGS = "/v1/voices/settings/default"
VOICE_ADD = "/v1/voices/add"
MODELS = "/v1/models"
HISTORY = "/v1/history"
HISTORY_DOWNLOAD = "/v1/history/download"
USER = "/v1/user"
SUBSCRIPTION = "/v1/user/subscription"
CHARACTER_STATS = "/v1/usage/character-stats"
TEXT_TO_VOICE = "/v1/text-to-voice"
TEXT_TO_VOICE_DESIGN = "/v1/text-to-voice/design"


def _id(value: str) -> str:
    return quote(value, safe="")


def voice(voice_id: str) -> str:
    """``/v1/voices/{voice_id}``."""
    return f"/v1/voices/{_id(voice_id)}"


def voice_settings(voice_id: str) -> str:
    """``/v1/voices/{voice_id}/settings``."""
    return f"{voice(voice_id)}/settings"


def voice_settings_edit(voice_id: str) -> str:
    """``/v1/voices/{voice_id}/settings/edit``."""
    return f"{voice(voice_id)}/settings/edit"


def voice_edit(voice_id: str) -> str:
    """``/v1/voices/{voice_id}/edit``."""
    return f"{voice(voice_id)}/edit"


def tts(voice_id: str) -> str:
    """``/v1/text-to-speech/{voice_id}`` (whole file)."""
    return f"/v1/text-to-speech/{_id(voice_id)}"


def tts_stream(voice_id: str) -> str:
    """``/v1/text-to-speech/{voice_id}/stream``."""
    return f"{tts(voice_id)}/stream"


def tts_with_timestamps(voice_id: str) -> str:
    """``/v1/text-to-speech/{voice_id}/with-timestamps``."""
    return f"{tts(voice_id)}/with-timestamps"


def tts_stream_with_timestamps(voice_id: str) -> str:
    """``/v1/text-to-speech/{voice_id}/stream/with-timestamps``."""
    return f"{tts(voice_id)}/stream/with-timestamps"


def tts_stream_input(voice_id: str) -> str:
    """``/v1/text-to-speech/{voice_id}/stream-input`` (WebSocket)."""
    return f"{tts(voice_id)}/stream-input"


def history_item(history_item_id: str) -> str:
    """``/v1/history/{history_item_id}``."""
    return f"/v1/history/{_id(history_item_id)}"


def history_audio(history_item_id: str) -> str:
    """``/v1/history/{history_item_id}/audio``."""
    return f"{history_item(history_item_id)}/audio"


def text_to_voice_stream(generated_voice_id: str) -> str:
    """``/v1/text-to-voice/{generated_voice_id}/stream``."""
    return f"{TEXT_TO_VOICE}/{_id(generated_voice_id)}/stream"
