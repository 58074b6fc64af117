"""The HTTP answer to each domain error: one table, one exception handler.

Bodies are the hosted API's ``{"detail": {"status", "message", ...}}``, with an error's data
fields (the quota's ``needed``/``left``/``reset_unix``) beside ``status`` and ``message``. An
``output_format`` outside the supported set is a schema violation there, so it is a FastAPI-style
422 list, as the hosted enum check answers; so is an unusable voice blend (a local extension).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from xiwidgets.server import domain_errors as errors
from xiwidgets.server.errors import validation_error

HTTP_STATUS: dict[type[errors.DomainError], int] = {
    errors.VoiceNotFoundError: 404,
    errors.VoiceNotEditableError: 400,
    errors.VoiceNotDeletableError: 400,
    errors.VoiceLimitReachedError: 400,
    errors.SampleLimitReachedError: 400,
    errors.InvalidSampleError: 400,
    errors.SampleNotFoundError: 404,
    errors.ModelNotFoundError: 400,
    errors.UnsupportedModelError: 400,
    errors.InvalidTextError: 400,
    errors.TextTooLongError: 400,
    errors.TooManyDialogueVoicesError: 400,
    errors.QuotaExceededError: 401,
    errors.PronunciationDictionaryNotFoundError: 404,
    errors.InvalidPronunciationRulesError: 400,
    errors.InvalidAudioError: 400,
    errors.AudioTooLongError: 413,
    errors.SpeechModelUnavailableError: 501,
    errors.UnsupportedOptionError: 400,
    errors.InvalidAlignmentTextError: 400,
    errors.SpeechBusyError: 429,
    errors.TooManyConcurrentRequestsError: 429,
    errors.SynthesisWorkerLostError: 503,
    errors.ServerStoppingError: 503,
    errors.GeneratedVoiceNotFoundError: 404,
    errors.UnsupportedDesignOptionError: 400,
}
# Where an invalid output_format was given, for the 422 list.
OUTPUT_FORMAT_LOCATION = ["query", "output_format"]


async def handle_domain_error(request: Request, exc: errors.DomainError) -> JSONResponse:
    """Render a :class:`~xiwidgets.server.domain_errors.DomainError` as the hosted API does."""
    if isinstance(exc, errors.InvalidOutputFormatError):
        return validation_error(OUTPUT_FORMAT_LOCATION, exc.message, "enum")
    if isinstance(exc, errors.InvalidBlendError):
        return validation_error(exc.location, exc.message)
    detail = {"status": exc.status, "message": exc.message, **exc.fields()}
    return JSONResponse(status_code=status_of(exc), content={"detail": detail},
                        headers=exc.headers())


def status_of(exc: errors.DomainError) -> int:
    """The HTTP status of ``exc``: its own class's row, else its nearest base class's (400)."""
    for cls in type(exc).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 400
