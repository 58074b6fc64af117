"""Voices that are weighted blends of Kokoro voices: what is stored, and how it is described.

A blend is stored like any added voice (a row of the ``voices`` table); its ``profile`` is a
:class:`BlendProfile` instead of the measured :class:`~xiwidgets.server.cloning.VoiceProfile`
of a voice made from samples. It keeps the Kokoro voice names and their normalized weights,
heaviest first (the heaviest voice's language and accent read the text); the style vector is
mixed from them at each take (``kokoro_engine.mix_voices``), so a blend needs no file of its
own and survives a restart with the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .catalog import KOKORO_ENGINE
from .engines.base import VoiceSpec
from .engines.kokoro_engine import format_blend, normalize_blend

PROFILE_KIND = "kokoro_blend"
# Labels a blend inherits when all of its voices agree on them.
_SHARED_LABELS = ("accent", "gender", "age", "language")


@dataclass(frozen=True)
class BlendProfile:
    """The stored profile of a blended voice.

    Parameters
    ----------
    weights : tuple of (str, float)
        Kokoro voice names and weights summing to 1, heaviest first.
    language : str
        ISO 639-1 language of the heaviest voice: the blend's language.
    """

    weights: tuple[tuple[str, float], ...]
    language: str

    @classmethod
    def of(cls, weights: Sequence[tuple[str, float]], language: str) -> BlendProfile:
        """A profile from unnormalized weights (checked by ``normalize_blend``), heaviest first."""
        normalized = normalize_blend(weights)
        ordered = sorted(normalized, key=lambda item: -item[1])
        return cls(tuple((name, round(weight, 6)) for name, weight in ordered), language)

    def voice_spec(self) -> VoiceSpec:
        """The Kokoro voice that speaks the blend."""
        return VoiceSpec(KOKORO_ENGINE, format_blend(list(self.weights)), self.language)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict (what the store keeps)."""
        return {
            "kind": PROFILE_KIND,
            "weights": [[name, weight] for name, weight in self.weights],
            "language": self.language,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BlendProfile:
        """Rebuild a profile stored with :meth:`to_dict`."""
        weights = tuple((str(name), float(weight)) for name, weight in data["weights"])
        return cls(weights, str(data["language"]))


def is_blend_profile(data: Mapping[str, Any]) -> bool:
    """Whether a stored profile describes a blend (rather than a voice made from samples)."""
    return data.get("kind") == PROFILE_KIND


def blend_labels(parts: Sequence[tuple[str, float, Mapping[str, str]]]) -> dict[str, str]:
    """Labels of a blend: those all its voices share, and what it is a blend of.

    Parameters
    ----------
    parts : sequence of (str, float, mapping)
        Each voice's display name, normalized weight and labels, heaviest first.

    Returns
    -------
    dict of str to str
        E.g. ``{"accent": "american", "language": "en", "blend": "Bella 50% + Adam 50%"}``.
    """
    labels: dict[str, str] = {}
    for key in _SHARED_LABELS:
        values = {part[2].get(key) for part in parts}
        if len(values) == 1 and None not in values:
            labels[key] = str(values.pop())
    labels["blend"] = blend_summary(parts)
    return labels


def blend_summary(parts: Sequence[tuple[str, float, Mapping[str, str]]]) -> str:
    """``"Bella 50% + Adam 50%"``: the voices of a blend and their shares."""
    return " + ".join(f"{name} {weight * 100:.0f}%" for name, weight, _ in parts)
