"""Voice settings rules shared by the server, the client and the widgets: written once here.

The defaults a voice has until it is edited, the range each numeric setting accepts (the hosted
API's: 0–1, speed 0.7–1.2), and which settings a model may ignore. No dependencies, so the
client and the widgets can read it without the server's extras installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Setting names to their default values (floats, and a bool for use_speaker_boost).
DEFAULTS: Mapping[str, Any] = {
    "stability": 0.5,
    "similarity_boost": 0.75,
    "style": 0.0,
    "use_speaker_boost": True,
    "speed": 1.0,
}

RANGES: Mapping[str, tuple[float, float]] = {
    "stability": (0.0, 1.0),
    "similarity_boost": (0.0, 1.0),
    "style": (0.0, 1.0),
    "speed": (0.7, 1.2),
}

# What a setting a model cannot use amounts to: no style exaggeration, no loudness boost.
_NEUTRAL: Mapping[str, float | bool] = {"style": 0.0, "use_speaker_boost": False}


def unusable_fields(*, can_use_style: bool, can_use_speaker_boost: bool) -> tuple[str, ...]:
    """The settings a model with these capabilities ignores.

    Parameters
    ----------
    can_use_style, can_use_speaker_boost : bool
        The model's ``can_use_style`` / ``can_use_speaker_boost`` (as ``GET /v1/models`` says).

    Returns
    -------
    tuple of str
        Names among ``style`` and ``use_speaker_boost``.
    """
    unusable = []
    if not can_use_style:
        unusable.append("style")
    if not can_use_speaker_boost:
        unusable.append("use_speaker_boost")
    return tuple(unusable)


def as_model_uses(
    settings: Mapping[str, Any], *, can_use_style: bool, can_use_speaker_boost: bool
) -> dict[str, Any]:
    """``settings`` with every setting the model ignores set to its neutral value.

    Parameters
    ----------
    settings : mapping
        Setting names to values.
    can_use_style, can_use_speaker_boost : bool
        The model's capabilities.

    Returns
    -------
    dict
        A copy; ``style`` becomes 0 and ``use_speaker_boost`` ``False`` when unusable.
    """
    unusable = unusable_fields(
        can_use_style=can_use_style, can_use_speaker_boost=can_use_speaker_boost
    )
    return {**settings, **{name: _NEUTRAL[name] for name in unusable}}

