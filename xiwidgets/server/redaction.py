"""Keep API keys out of every log line the server process writes, configured keys or not.

A client may send a key this server does not know (a hosted ElevenLabs key sent to the wrong
URL), in a header, in the query string or inside a websocket message; uvicorn logs query strings
at info and websocket handshake headers and frames at debug. :func:`redact` removes every
key-shaped value from a text, and :func:`install_log_redaction` applies it to every record on its
way to a handler.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Iterable

from websockets.frames import Frame

REDACTED = "[redacted]"

# Names a key travels under: the ElevenLabs header and its query/JSON spellings, x-api-key,
# api_key/apikey, and Authorization. The look-behind keeps ``has_api_key`` and the like apart.
_KEY_NAME = r"(?<![\w-])(?:xi[-_]api[-_]key|x[-_]api[-_]key|api[-_]?key|authorization)"
# ``name: value``, ``name=value``, ``"name": "value"`` or ``'name': 'value'``, with an optional
# auth scheme (``Bearer`` followed by a space, ``+`` or ``%20``) before the secret itself.
_AUTH_SCHEME = r"(?:bearer|basic|token)(?:\s+|\+|%20)"
_KEY_PAIR = re.compile(
    rf"""(?P<lead>["']?{_KEY_NAME}["']?\s*[:=]\s*["']?(?:{_AUTH_SCHEME})?)
        (?!\[redacted\]|{_AUTH_SCHEME})(?P<secret>[^\s"'&,;)\]}}]+)""",
    re.IGNORECASE | re.VERBOSE,
)
# ElevenLabs keys are ``sk_`` followed by hex; redact such a token wherever it appears.
_ELEVENLABS_KEY = re.compile(r"\bsk_[A-Za-z0-9_\-]{8,}")
# Loggers the server's stack writes to directly (their filters survive logging re-configuration,
# which replaces handlers): uvicorn, websockets (also behind uvicorn's websocket layer), ours.
LOGGER_PREFIXES = ("uvicorn", "websockets", "xiwidgets", "asyncio", "fastapi")


def redact(text: str, keys: Iterable[str] = ()) -> str:
    """``text`` with every key-shaped value replaced by ``[redacted]``.

    Parameters
    ----------
    text : str
        A log message, a header line, a URL...
    keys : iterable of str
        Exact secrets to remove wherever they appear (the server's configured keys).

    Returns
    -------
    str
    """
    cleaned = _KEY_PAIR.sub(lambda match: match["lead"] + REDACTED, text)
    cleaned = _ELEVENLABS_KEY.sub(REDACTED, cleaned)
    for key in keys:
        cleaned = cleaned.replace(key, REDACTED)
    return cleaned


class RedactingFilter(logging.Filter):
    """A logging filter that redacts keys in a record's message and arguments.

    Arguments are redacted one by one so formatters that read ``record.args`` (uvicorn's access
    formatter unpacks them) keep working; when a key only shows in the combined message (a
    header name in the format string, its value in an argument) the record is flattened to its
    redacted message.

    Parameters
    ----------
    keys : iterable of str
        Exact secrets to remove besides the key-shaped values.
    """

    def __init__(self, keys: Iterable[str] = ()) -> None:
        super().__init__()
        self.keys = tuple(keys)

    def _clean(self, value: object) -> object:
        if isinstance(value, str):
            return redact(value, self.keys)
        if isinstance(value, Frame):
            return self._clean_frame(value)
        return value

    def _clean_frame(self, frame: Frame) -> Frame:
        """A websockets frame with its payload redacted: the frame shortens itself for the log
        line, and a key at the end of a long message would keep its tail there without its
        name or ``sk_`` prefix, beyond the reach of redacting the shortened line."""
        try:
            text = bytes(frame.data).decode()
        except UnicodeDecodeError:  # audio, or a close frame's code: no text to hold a key
            return frame
        cleaned = redact(text, self.keys)
        return frame if cleaned == text else dataclasses.replace(frame, data=cleaned.encode())

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(self._clean(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {name: self._clean(arg) for name, arg in record.args.items()}
        else:  # no arguments: the message is the text itself, not a format string
            record.msg = self._clean(record.msg)
            # uvicorn's own copy of the message, with terminal colours (not a LogRecord field).
            if "color_message" in record.__dict__:
                record.__dict__["color_message"] = self._clean(record.__dict__["color_message"])
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when set: the traceback is formatted once, redacted.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info),
                                     self.keys)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.keys)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to the formatter
            return True
        cleaned = redact(message, self.keys)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
            record.__dict__.pop("color_message", None)
        return True


def _server_loggers() -> list[logging.Logger]:
    existing = dict(logging.root.manager.loggerDict)  # a copy: other threads add loggers
    loggers = [logger for name, logger in existing.items()
               if isinstance(logger, logging.Logger) and name.split(".")[0] in LOGGER_PREFIXES]
    return loggers + [logging.getLogger(name) for name in LOGGER_PREFIXES
                      if not isinstance(existing.get(name), logging.Logger)]


def install_log_redaction(keys: Iterable[str] = ()) -> Callable[[], None]:
    """Redact keys from every record the server's loggers emit and every handler writes.

    The filter goes on the loggers of uvicorn, websockets, asyncio, FastAPI and xiwidgets (and
    every child logger that exists now), and on every handler present on those loggers, on the
    root logger and on ``logging.lastResort``: a logger's own filter does not see records
    propagated from its children, a handler's does.

    Parameters
    ----------
    keys : iterable of str
        The server's configured keys (removed wherever they appear).

    Returns
    -------
    callable
        Removes the filter from everything it was added to.
    """
    redactor = RedactingFilter(keys)
    loggers = _server_loggers()
    handlers = {id(h): h for lg in [*loggers, logging.root] for h in lg.handlers}
    if logging.lastResort is not None:
        handlers[id(logging.lastResort)] = logging.lastResort
    targets: list[logging.Filterer] = [*loggers, *handlers.values()]
    for target in targets:
        target.addFilter(redactor)

    def uninstall() -> None:
        for target in targets:
            target.removeFilter(redactor)

    return uninstall
