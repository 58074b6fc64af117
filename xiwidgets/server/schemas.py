"""Request bodies of the API, as pydantic models (schema violations become FastAPI 422 lists).

Python's JSON parser accepts ``NaN``, ``Infinity`` and numbers like ``1e999`` (infinite as a
float); every model refuses non-finite numbers, so they are a 422, never stored or computed with.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from xiwidgets.server.text import is_valid_unicode
from xiwidgets.voice_settings_rules import RANGES

MAX_SEED = 4_294_967_295
# The hosted API documents no limit; one full page of ``GET /v1/history`` can be downloaded.
MAX_DOWNLOAD_ITEMS = 1000

_BODY_CONFIG = ConfigDict(extra="ignore", allow_inf_nan=False)


def _in_range(name: str) -> Any:
    """An optional, nullable setting bounded by the shared rules' range for ``name``."""
    low, high = RANGES[name]
    return Field(None, ge=low, le=high)


class VoiceSettingsBody(BaseModel):
    """``voice_settings``: every field optional and nullable, ranges from the shared rules."""

    model_config = _BODY_CONFIG

    stability: float | None = _in_range("stability")
    similarity_boost: float | None = _in_range("similarity_boost")
    style: float | None = _in_range("style")
    use_speaker_boost: bool | None = None
    speed: float | None = _in_range("speed")

    def given(self) -> dict[str, Any]:
        """Only the fields the client set to a value (``null`` means "not provided")."""
        return {key: value for key, value in self.model_dump().items() if value is not None}


class PronunciationDictionaryLocator(BaseModel):
    """A dictionary a request's text is said with, at a version (its latest when omitted)."""

    model_config = _BODY_CONFIG

    pronunciation_dictionary_id: str
    version_id: str | None = None


class TextToSpeechBody(BaseModel):
    """Body shared by the four text-to-speech endpoints."""

    model_config = _BODY_CONFIG

    text: str
    model_id: str | None = None
    language_code: str | None = None
    voice_settings: VoiceSettingsBody | None = None
    pronunciation_dictionary_locators: list[PronunciationDictionaryLocator] | None = Field(
        None, max_length=3
    )
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    previous_text: str | None = None
    next_text: str | None = None
    previous_request_ids: list[str] | None = Field(None, max_length=3)
    next_request_ids: list[str] | None = Field(None, max_length=3)
    use_pvc_as_ivc: bool | None = None
    apply_text_normalization: Literal["auto", "on", "off"] | None = None
    apply_language_text_normalization: bool | None = None


def _distinct_ids(ids: list[str]) -> list[str]:
    """The ids once each, in the order given, within the download limit."""
    distinct = list(dict.fromkeys(ids))
    if not all(map(is_valid_unicode, distinct)):
        raise ValueError("a history item id is not valid Unicode (it has a lone surrogate)")
    if len(distinct) > MAX_DOWNLOAD_ITEMS:
        raise ValueError(
            f"{len(distinct):,} distinct history items were asked for; one download holds at "
            f"most {MAX_DOWNLOAD_ITEMS:,}, so split them into several downloads"
        )
    return distinct


class HistoryDownloadBody(BaseModel):
    """Body of ``POST /v1/history/download``; repeated ids count once."""

    model_config = _BODY_CONFIG

    history_item_ids: Annotated[list[str], Field(min_length=1), AfterValidator(_distinct_ids)]
    output_format: str | None = None


class DialogueInputBody(BaseModel):
    """One line of a dialogue: its text and the voice that speaks it."""

    model_config = _BODY_CONFIG

    text: str
    voice_id: str


class DialogueSettingsBody(BaseModel):
    """``settings`` of a dialogue; the SDK's ``similarity`` is the voices' ``similarity_boost``."""

    model_config = _BODY_CONFIG

    stability: float | None = _in_range("stability")
    use_speaker_boost: bool | None = None
    similarity: float | None = _in_range("similarity_boost")

    def given(self) -> dict[str, Any]:
        """The voice settings the client set to a value, by their voice-settings names."""
        named = {
            "stability": self.stability,
            "use_speaker_boost": self.use_speaker_boost,
            "similarity_boost": self.similarity,
        }
        return {key: value for key, value in named.items() if value is not None}


class TextToDialogueBody(BaseModel):
    """Body shared by the four text-to-dialogue endpoints."""

    model_config = _BODY_CONFIG

    inputs: list[DialogueInputBody] = Field(min_length=1)
    model_id: str | None = None
    language_code: str | None = None
    settings: DialogueSettingsBody | None = None
    pronunciation_dictionary_locators: list[PronunciationDictionaryLocator] | None = Field(
        None, max_length=3
    )
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    apply_text_normalization: Literal["auto", "on", "off"] | None = None
    use_pvc_as_ivc: bool | None = None
    previous_text: str | None = None
    future_text: str | None = None
    previous_request_ids: list[str] | None = Field(None, max_length=3)
    next_request_ids: list[str] | None = Field(None, max_length=3)


# More voices than this blend into mush; the cap also bounds the work of one request.
MAX_BLEND_VOICES = 16


class BlendComponentBody(BaseModel):
    """One voice of a blend and its weight (any non-negative scale; normalized later)."""

    model_config = _BODY_CONFIG

    voice_id: str = Field(max_length=100)
    weight: float = Field(1.0, ge=0)


class BlendBody(BaseModel):
    """The body of ``POST /v1/voices/blend`` (a local extension; see ``routes.voice_blends``)."""

    model_config = _BODY_CONFIG

    name: str = Field(max_length=1000)
    voices: list[BlendComponentBody] = Field(min_length=1, max_length=MAX_BLEND_VOICES)
    description: str | None = Field(None, max_length=10_000)
    labels: dict[str, str] | None = None
