"""What can go wrong in the server's logic, independent of HTTP and websockets.

Each error has the API's machine-readable ``status`` (e.g. ``voice_not_found``) and one readable
sentence; :mod:`xiwidgets.server.error_responses` gives each its HTTP answer, and the
stream-input route turns them into error frames. Data a client may act on (the quota numbers)
are attributes, sent as fields of the error's ``detail``.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class: an API ``status`` code and a sentence saying what is wrong and what to do.

    Parameters
    ----------
    message : str
        The sentence.
    """

    status = "invalid_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def fields(self) -> dict[str, Any]:
        """Data a client may act on, sent beside ``status`` and ``message``."""
        return {}


class VoiceNotFoundError(DomainError):
    """No voice has this id."""

    status = "voice_not_found"

    def __init__(self, voice_id: str) -> None:
        super().__init__(f"A voice with voice_id {voice_id!r} does not exist.")


class VoiceUnavailableError(VoiceNotFoundError):
    """A premade voice whose engine's assets are missing or refused (the message says the fix)."""

    def __init__(self, message: str) -> None:
        DomainError.__init__(self, message)


class VoiceNotEditableError(DomainError):
    """A premade voice cannot be edited."""

    status = "voice_not_editable"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"{name!r} is a premade voice and cannot be edited; add a voice instead."
        )


class VoiceNotDeletableError(DomainError):
    """A premade voice cannot be deleted."""

    status = "voice_not_deletable"

    def __init__(self, name: str) -> None:
        super().__init__(f"{name!r} is a premade voice and cannot be deleted.")


class VoiceLimitReachedError(DomainError):
    """The server holds as many added voices as it may."""

    status = "voice_limit_reached"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This server holds at most {limit} added voices; delete one first."
        )


class SampleLimitReachedError(DomainError):
    """Adding the samples would pass the per-voice sample limit; nothing was changed."""

    status = "too_many_samples"

    def __init__(self, name: str, held: int, adding: int, limit: int) -> None:
        super().__init__(
            f"Voice {name!r} has {held} of at most {limit} samples; adding {adding} would "
            f"pass the limit, so nothing was changed. Add at most {max(0, limit - held)}."
        )


class InvalidSampleError(DomainError):
    """An uploaded sample is not audio the server can read."""

    status = "invalid_audio_sample"


class ModelNotFoundError(DomainError):
    """No text-to-speech model has this id."""

    status = "model_not_found"

    def __init__(self, model_id: str | None) -> None:
        super().__init__(
            f"A text-to-speech model with model_id {model_id!r} does not exist; "
            "GET /v1/models lists the available ones."
        )


class UnsupportedModelError(DomainError):
    """The model cannot be used over the stream-input websocket."""

    status = "unsupported_model"

    def __init__(self, model_id: str) -> None:
        super().__init__(
            f"Model {model_id} cannot be used over the stream-input websocket; "
            "use eleven_multilingual_v2 or eleven_flash_v2_5."
        )


class InvalidOutputFormatError(DomainError):
    """An ``output_format`` outside the supported set (its message names the accepted ones)."""

    status = "invalid_output_format"


class InvalidTextError(DomainError):
    """The text is not valid Unicode, or has nothing to say."""

    status = "invalid_text"


class TextTooLongError(DomainError):
    """The text passes the model's per-request character limit."""

    status = "max_character_limit_exceeded"

    def __init__(self, length: int, model_id: str, limit: int) -> None:
        super().__init__(
            f"The text has {length:,} characters but model {model_id} accepts at most "
            f"{limit:,} per request; split it into several requests."
        )


class QuotaExceededError(DomainError):
    """The take would pass the character quota; nothing was charged.

    Parameters
    ----------
    needed : int
        Characters the take costs.
    left : int
        Characters left this period.
    reset_unix : int
        When the quota resets (unix seconds).
    """

    status = "quota_exceeded"

    def __init__(self, needed: int, left: int, reset_unix: int) -> None:
        super().__init__(
            f"This request needs {needed:,} characters but only {left:,} are left this "
            "period; shorten the text or raise the server's --character-limit."
        )
        self.needed = needed
        self.left = left
        self.reset_unix = reset_unix

    def fields(self) -> dict[str, Any]:
        """``needed``, ``left`` and ``reset_unix``."""
        return {"needed": self.needed, "left": self.left, "reset_unix": self.reset_unix}


class GeneratedVoiceNotFoundError(DomainError):
    """No kept voice-design preview has this id (never made, expired, or lost in a restart)."""

    status = "generated_voice_not_found"

    def __init__(self, generated_voice_id: str, kept: int, lifetime_seconds: int) -> None:
        super().__init__(
            f"No voice preview with generated_voice_id {generated_voice_id!r} is kept here; "
            f"this server keeps the last {kept} previews for {lifetime_seconds // 3600} hours "
            "(a restart forgets them). Design the voice again with POST /v1/text-to-voice/design."
        )


class UnsupportedDesignOptionError(DomainError):
    """A voice-design option only the hosted API offers."""

    status = "unsupported_locally"
