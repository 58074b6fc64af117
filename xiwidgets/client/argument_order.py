"""The official SDK's argument order for text to speech, and xiwidgets' first order, deprecated.

The ElevenLabs SDK takes the voice first and everything else as keywords,
``client.text_to_speech.convert(voice_id, text=..., model_id=...)``, and so does ``client.tts``:
code moves between the two by renaming ``text_to_speech`` to ``tts`` (``voice_id=`` is accepted
as the SDK spells it). The order xiwidgets had first, ``client.tts.convert(text, voice, ...)``,
still works and warns with the call to write instead.

The two orders cannot be confused: the SDK's passes one positional argument (the voice) and
``text=``; the first order passed two or more positional arguments (text, voice, then the
options in their listed order), or the text alone with ``voice=``.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

Method = TypeVar("Method", bound=Callable[..., Any])

_VOICE = "voice"
_SDK_VOICE = "voice_id"  # the official SDK's name for the voice argument


def sdk_argument_order(
    old_positionals: Sequence[str], text: str = "text"
) -> Callable[[Method], Method]:
    """Let a ``client.tts`` method written ``(self, voice, *, text, ...)`` accept the old order.

    Parameters
    ----------
    old_positionals : sequence of str
        The keyword-only parameters that the old order took positionally after the voice, in
        that order (``model_id``, ``voice_settings``, ...).
    text : str
        The name of the text parameter (``text_chunks`` for ``realtime``).

    Returns
    -------
    callable
        A decorator; the method keeps its signature (and its help) unchanged.
    """

    def decorate(method: Method) -> Method:
        new = inspect.signature(method)
        old = _old_signature(new, old_positionals, text)
        name = method.__name__

        @functools.wraps(method)
        def accept_both(self: object, *args: Any, **kwargs: Any) -> Any:
            if _SDK_VOICE in kwargs:
                if _VOICE in kwargs:
                    raise TypeError(f"{name}() got both voice= and voice_id=: pass one of them")
                kwargs[_VOICE] = kwargs.pop(_SDK_VOICE)
            old_order = len(args) >= 2 or (len(args) == 1 and _VOICE in kwargs)
            if not old_order:
                return method(self, *args, **kwargs)
            if text in kwargs and len(args) == 1:
                raise TypeError(f"{name}() got the voice twice: as its first argument and as a "
                                f"keyword")
            if text in kwargs:
                raise TypeError(
                    f"{name}() takes the voice as its only positional argument and the text as "
                    f"{text}=, but got {text}= and {_count(len(args))}: call "
                    f"client.tts.{name}(voice, {text}=...)."
                )
            try:
                bound = old.bind(self, *args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{name}(): {exc}; call client.tts.{name}(voice, {text}=...)"
                                ) from None
            warnings.warn(
                f"client.tts.{name}({text}, voice, ...) is deprecated: write "
                f"client.tts.{name}(voice, {text}=..., ...) (the official ElevenLabs SDK's "
                f"order: the voice first, everything else as keywords).",
                DeprecationWarning,
                stacklevel=2,
            )
            arguments = dict(bound.arguments)
            arguments.pop("self")
            extra = arguments.pop(_var_keyword(old) or "", {})
            return method(self, arguments.pop(_VOICE), **arguments, **extra)

        return accept_both  # type: ignore[return-value]  # same signature, wider runtime

    return decorate


def _old_signature(
    new: inspect.Signature, old_positionals: Sequence[str], text: str
) -> inspect.Signature:
    """The method's signature as it was: text, voice, then ``old_positionals`` positionally."""
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = dict(new.parameters)
    head = [
        parameters.pop("self"),
        parameters.pop(text).replace(kind=positional, default=inspect.Parameter.empty),
        parameters.pop(_VOICE).replace(kind=positional, default=inspect.Parameter.empty),
    ]
    head += [parameters.pop(name).replace(kind=positional) for name in old_positionals]
    return new.replace(parameters=[*head, *parameters.values()])


def _var_keyword(signature: inspect.Signature) -> str | None:
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            return parameter.name
    return None


def _count(positionals: int) -> str:
    return f"{positionals} positional argument{'s' if positionals > 1 else ''}"
