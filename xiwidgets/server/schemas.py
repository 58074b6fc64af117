"""Request bodies of the API, as pydantic models (schema violations become FastAPI 422 lists)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_SEED = 4_294_967_295


class VoiceSettingsBody(BaseModel):
    """``voice_settings``: every field optional and nullable, ranges as in the hosted UI."""

    model_config = ConfigDict(extra="ignore")

    stability: float | None = Field(None, ge=0.0, le=1.0)
    similarity_boost: float | None = Field(None, ge=0.0, le=1.0)
    style: float | None = Field(None, ge=0.0, le=1.0)
    use_speaker_boost: bool | None = None
    speed: float | None = Field(None, ge=0.7, le=1.2)

    def given(self) -> dict:
        """Only the fields the client set to a value (``null`` means "not provided")."""
        return {key: value for key, value in self.model_dump().items() if value is not None}


class PronunciationDictionaryLocator(BaseModel):
    """Accepted for compatibility; the local engines have no pronunciation dictionaries."""

    pronunciation_dictionary_id: str
    version_id: str | None = None


class TextToSpeechBody(BaseModel):
    """Body shared by the four text-to-speech endpoints."""

    model_config = ConfigDict(extra="ignore")

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


class HistoryDownloadBody(BaseModel):
    """Body of ``POST /v1/history/download``."""

    history_item_ids: list[str] = Field(min_length=1)
    output_format: str | None = None
