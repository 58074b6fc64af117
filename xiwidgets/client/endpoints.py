"""Every API path the client calls, in one place (relative to the base URL).

Paths with an id in them are written as the API reference writes them
(``/v1/voices/{voice_id}``); calling one fills the id in, percent-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

VOICES = "/v1/voices"
VOICES_V2 = "/v2/voices"
VOICE_DEFAULT_SETTINGS = "/v1/voices/settings/default"
VOICE_ADD = "/v1/voices/add"
# A local-server extension (no hosted equivalent): a weighted blend of Kokoro voices.
VOICE_BLEND = "/v1/voices/blend"
MODELS = "/v1/models"
HISTORY = "/v1/history"
HISTORY_DOWNLOAD = "/v1/history/download"
USER = "/v1/user"
SUBSCRIPTION = "/v1/user/subscription"
CHARACTER_STATS = "/v1/usage/character-stats"
DIALOGUE = "/v1/text-to-dialogue"
DIALOGUE_STREAM = "/v1/text-to-dialogue/stream"
DIALOGUE_WITH_TIMESTAMPS = "/v1/text-to-dialogue/with-timestamps"
DIALOGUE_STREAM_WITH_TIMESTAMPS = "/v1/text-to-dialogue/stream/with-timestamps"
FORCED_ALIGNMENT = "/v1/forced-alignment"
SPEECH_TO_TEXT = "/v1/speech-to-text"
TEXT_TO_VOICE = "/v1/text-to-voice"
TEXT_TO_VOICE_DESIGN = "/v1/text-to-voice/design"


def _id(value: str) -> str:
    # Ids go in as one path segment: a "/" or "?" in one cannot reach another endpoint.
    return quote(value, safe="")


@dataclass(frozen=True)
class IdPath:
    """An API path with one ``{name}`` in it; ``path(value)`` is the path for that id."""

    template: str

    def __call__(self, value: str) -> str:
        """The path with ``value``, percent-encoded, in place of the ``{name}``."""
        head, _, rest = self.template.partition("{")
        return head + _id(value) + rest.partition("}")[2]


voice = IdPath("/v1/voices/{voice_id}")
voice_settings = IdPath("/v1/voices/{voice_id}/settings")
voice_settings_edit = IdPath("/v1/voices/{voice_id}/settings/edit")
voice_edit = IdPath("/v1/voices/{voice_id}/edit")
tts = IdPath("/v1/text-to-speech/{voice_id}")
tts_stream = IdPath("/v1/text-to-speech/{voice_id}/stream")
tts_with_timestamps = IdPath("/v1/text-to-speech/{voice_id}/with-timestamps")
tts_stream_with_timestamps = IdPath("/v1/text-to-speech/{voice_id}/stream/with-timestamps")
tts_stream_input = IdPath("/v1/text-to-speech/{voice_id}/stream-input")  # WebSocket
tts_multi_stream_input = IdPath("/v1/text-to-speech/{voice_id}/multi-stream-input")  # WebSocket
history_item = IdPath("/v1/history/{history_item_id}")


def voice_sample(voice_id: str, sample_id: str) -> str:
    """``/v1/voices/{voice_id}/samples/{sample_id}`` for these ids, percent-encoded."""
    return f"{voice(voice_id)}/samples/{_id(sample_id)}"


def voice_sample_audio(voice_id: str, sample_id: str) -> str:
    """``/v1/voices/{voice_id}/samples/{sample_id}/audio`` for these ids."""
    return voice_sample(voice_id, sample_id) + "/audio"


history_audio = IdPath("/v1/history/{history_item_id}/audio")
text_to_voice_stream = IdPath("/v1/text-to-voice/{generated_voice_id}/stream")
