"""OpenAI's speech API in local terms: its voices, models and formats, and its error shape.

``POST /v1/audio/speech`` is spoken through the same take service as text to speech; this
module only says what OpenAI's names mean here. OpenAI's voice names map to local voices
(``OPENAI_VOICES``): a Kokoro voice when the Kokoro assets are installed, else a voice that
is always there (Joe, Piper; or an espeak-ng voice of the same gender and accent).

``instructions`` steer OpenAI's model in free words; locally only the two things the engines
can change are read from them (``INSTRUCTION_WORDS``): pace, as ``speed``, and how
expressive, as ``stability`` (Piper's noise, espeak-ng's pitch range). Everything else in
them has no local effect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from xiwidgets.server.catalog import DEFAULT_MODEL_ID
from xiwidgets.server.voices import VoiceRecord, VoiceRegistry
from xiwidgets.voice_settings_rules import RANGES

# OpenAI's documented limit of ``input``.
MAX_INPUT_CHARACTERS = 4096

# OpenAI voice → (Kokoro voice, voice used without Kokoro): same gender and accent.
OPENAI_VOICES: dict[str, tuple[str, str]] = {
    "alloy": ("Alloy", "Riley"),
    "ash": ("Adam", "Joe"),
    "ballad": ("George", "Oliver"),
    "coral": ("Heart", "Riley"),
    "echo": ("Echo", "Joe"),
    "fable": ("Fable", "Oliver"),
    "onyx": ("Onyx", "Joe"),
    "nova": ("Nova", "Riley"),
    "sage": ("Sarah", "Riley"),
    "shimmer": ("Sky", "Riley"),
    "verse": ("Michael", "Joe"),
    "marin": ("Bella", "Riley"),
    "cedar": ("Eric", "Joe"),
}

# OpenAI model → local model: tts-1 is OpenAI's fast model, the others its quality ones.
OPENAI_MODELS: dict[str, str] = {
    "tts-1": "eleven_flash_v2_5",
    "tts-1-hd": DEFAULT_MODEL_ID,
    "gpt-4o-mini-tts": DEFAULT_MODEL_ID,
}

ResponseFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]


@dataclass(frozen=True)
class SpeechFormat:
    """How a ``response_format`` is made: the take's output format, then (maybe) a codec."""

    take_format: str
    media_type: str
    container_codec: str | None = None  # encoded from the take's PCM (audio.CONTAINER_CODECS)
    whole_file: bool = False  # WAV: one file with its real length in the header


# OpenAI's PCM, WAV, AAC and FLAC are 24 kHz mono 16-bit, as its API documents for PCM.
SPEECH_FORMATS: dict[str, SpeechFormat] = {
    "mp3": SpeechFormat("mp3_44100_128", "audio/mpeg"),
    "opus": SpeechFormat("opus_48000_64", "audio/ogg"),
    "aac": SpeechFormat("pcm_24000", "audio/aac", container_codec="aac"),
    "flac": SpeechFormat("pcm_24000", "audio/flac", container_codec="flac"),
    "wav": SpeechFormat("pcm_24000", "audio/wav", whole_file=True),
    "pcm": SpeechFormat("pcm_24000", "audio/pcm"),
}
SPEECH_SAMPLE_RATE = 24_000


# Words of ``instructions`` → the voice setting they move and its value. An instruction that
# asks both ways ("slow, then fast") moves neither.
INSTRUCTION_WORDS: dict[str, tuple[str, float]] = {
    **dict.fromkeys(("slow", "slowly", "slower", "unhurried", "leisurely"), ("speed", 0.85)),
    **dict.fromkeys(("fast", "quickly", "quick", "faster", "rapidly", "brisk", "briskly"),
                    ("speed", 1.15)),
    **dict.fromkeys(("calm", "calmly", "steady", "even", "monotone", "flat", "soothing",
                     "neutral"), ("stability", 0.85)),
    **dict.fromkeys(("expressive", "expressively", "excited", "lively", "dramatic",
                     "emotional", "animated", "enthusiastic"), ("stability", 0.2)),
}


def instruction_settings(instructions: str | None) -> dict[str, float]:
    """The voice settings an ``instructions`` text asks for (see ``INSTRUCTION_WORDS``).

    Examples
    --------
    >>> instruction_settings("Speak slowly and calmly.")
    {'speed': 0.85, 'stability': 0.85}
    >>> instruction_settings("Whisper like a pirate.")
    {}
    """
    asked: dict[str, set[float]] = {}
    for word in re.findall(r"[a-z]+", (instructions or "").lower()):
        if word in INSTRUCTION_WORDS:
            name, value = INSTRUCTION_WORDS[word]
            asked.setdefault(name, set()).add(value)
    return {name: values.pop() for name, values in asked.items() if len(values) == 1}


class CustomVoice(BaseModel):
    """OpenAI's ``{"id": ...}`` voice reference (here: a local voice id or name)."""

    model_config = ConfigDict(extra="ignore")

    id: str


class SpeechBody(BaseModel):
    """Body of ``POST /v1/audio/speech`` (OpenAI's ``SpeechCreateParams``)."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    model: str
    input: str = Field(max_length=MAX_INPUT_CHARACTERS)
    voice: str | CustomVoice
    instructions: str | None = None
    response_format: ResponseFormat = "mp3"
    speed: float = Field(1.0, ge=0.25, le=4.0)
    stream_format: Literal["audio", "sse"] = "audio"


class OpenAIError(Exception):
    """An error answered in OpenAI's shape: ``{"error": {message, type, param, code}}``."""

    def __init__(
        self, status_code: int, message: str, code: str | None, param: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.code = code
        self.param = param

    def body(self) -> dict[str, Any]:
        """The JSON body OpenAI's API sends."""
        kind = "invalid_request_error" if self.status_code < 500 else "server_error"
        return {
            "error": {"message": self.message, "type": kind, "param": self.param,
                      "code": self.code}
        }


def local_model_id(model: str) -> str:
    """The local model an OpenAI (or ElevenLabs) model name means.

    Raises
    ------
    OpenAIError
        400 ``model_not_found`` for a name that is neither.
    """
    from xiwidgets.server.catalog import get_model

    if model in OPENAI_MODELS:
        return OPENAI_MODELS[model]
    if model.startswith("gpt-4o-mini-tts"):  # dated snapshots of the same model
        return OPENAI_MODELS["gpt-4o-mini-tts"]
    if get_model(model) is not None:
        return model
    raise OpenAIError(
        400,
        f"The model {model!r} does not exist here; use tts-1, tts-1-hd, gpt-4o-mini-tts or "
        "a model id of GET /v1/models.",
        "model_not_found",
        "model",
    )


def local_voice(registry: VoiceRegistry, voice: str | CustomVoice) -> VoiceRecord:
    """The local voice an OpenAI voice name, a local voice id or a local voice name means.

    Raises
    ------
    OpenAIError
        400 ``voice_not_found`` when it means none.
    """
    wanted = voice.id if isinstance(voice, CustomVoice) else voice
    by_name = {record.name.lower(): record for record in registry.voices()}
    if wanted.lower() in OPENAI_VOICES:
        kokoro, fallback = OPENAI_VOICES[wanted.lower()]
        found = by_name.get(kokoro.lower()) or by_name.get(fallback.lower())
        if found is not None:
            return found
    if wanted.lower() in by_name:
        return by_name[wanted.lower()]
    from xiwidgets.server.domain_errors import VoiceNotFoundError

    try:
        return registry.voice(wanted)
    except VoiceNotFoundError:
        raise OpenAIError(
            400,
            f"The voice {wanted!r} does not exist here; use one of "
            f"{', '.join(OPENAI_VOICES)}, or a voice id or name of GET /v1/voices.",
            "voice_not_found",
            "voice",
        ) from None


def check_speed(speed: float) -> None:
    """Refuse a speed the local engines cannot make (OpenAI's range is wider).

    Raises
    ------
    OpenAIError
        400 naming the local range.
    """
    low, high = RANGES["speed"]
    if not low <= speed <= high:
        raise OpenAIError(
            400,
            f"speed {speed} is outside what the local voices can do ({low} to {high}); "
            "send a speed in that range.",
            "unsupported_speed",
            "speed",
        )
