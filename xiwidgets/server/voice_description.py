"""What a voice description asks for: gender, age, accent, pitch, pace and tone, from its words.

A description is free text ("A deep, slow, elderly British man with a warm voice"). It is read
word by word, lower-cased; hyphenated and two-word forms ("high-pitched", "middle aged",
"fast talking") count as one word. ``very``/``extremely`` before a word make it count half as
much again, ``slightly``/``a bit`` half as much, and ``not``/``no``/``without`` in the three
words before it cancel it ("not too fast"). Pitch and pace are sums of the words' weights,
clipped to [-1, 1]; age moves both a little (older voices are lower and slower). The first
gender, age and accent word wins. Words that name a tone ("warm", "husky", "calm") are kept
to match against the premade voices' tone labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words -> how much they lower (negative) or raise the pitch.
PITCH_WORDS: dict[str, float] = {
    "deep": -0.7, "low": -0.6, "low-pitched": -0.7, "lower": -0.5, "bass": -0.8,
    "baritone": -0.5, "booming": -0.5, "gravelly": -0.4, "gruff": -0.4, "husky": -0.3,
    "dark": -0.3, "resonant": -0.3, "rumbling": -0.6, "throaty": -0.3, "gravel": -0.4,
    "high": 0.6, "high-pitched": 0.7, "higher": 0.5, "squeaky": 0.9, "shrill": 0.8,
    "bright": 0.4, "light": 0.3, "soprano": 0.7, "thin": 0.3, "airy": 0.3, "childlike": 0.6,
    "chirpy": 0.5, "piping": 0.6, "tenor": 0.3, "falsetto": 0.9,
}
# Words -> how much they slow down (negative) or speed up the speech.
PACE_WORDS: dict[str, float] = {
    "slow": -0.6, "slowly": -0.6, "slower": -0.5, "leisurely": -0.6, "unhurried": -0.5,
    "drawling": -0.6, "deliberate": -0.4, "measured": -0.3, "relaxed": -0.3, "calm": -0.2,
    "sleepy": -0.5, "languid": -0.5, "soothing": -0.2, "meditative": -0.4, "slow-paced": -0.6,
    "fast": 0.6, "quick": 0.5, "quickly": 0.5, "faster": 0.5, "rapid": 0.7, "rapidly": 0.7,
    "hurried": 0.6, "brisk": 0.5, "energetic": 0.4, "excited": 0.4, "lively": 0.3,
    "upbeat": 0.3, "fast-paced": 0.6, "fast-talking": 0.7, "speedy": 0.6, "snappy": 0.4,
    "breathless": 0.4, "frantic": 0.7,
}
_GENDER_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("male", "man", "men", "masculine", "boy", "guy", "gentleman", "father", "dad",
         "grandfather", "grandpa", "husband", "king", "sir", "he", "his", "him", "brother",
         "son", "uncle", "mr"),
        "male",
    ),
    **dict.fromkeys(
        ("female", "woman", "women", "feminine", "girl", "lady", "mother", "mom", "mum",
         "grandmother", "grandma", "wife", "queen", "she", "her", "hers", "sister",
         "daughter", "aunt", "mrs", "ms"),
        "female",
    ),
}
_AGE_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("old", "elderly", "aged", "senior", "ancient", "older", "grandfather", "grandmother",
         "grandpa", "grandma", "wise", "veteran", "retired"),
        "old",
    ),
    **dict.fromkeys(
        ("young", "youthful", "teen", "teenage", "teenager", "child", "kid", "boy", "girl",
         "younger", "childlike", "student", "juvenile"),
        "young",
    ),
    **dict.fromkeys(("middle-aged", "adult", "mature", "grown-up"), "middle_aged"),
}
_ACCENT_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("british", "uk", "london", "londoner", "rp", "posh", "england", "oxford", "cockney",
         "brit", "queen's"),
        "british",
    ),
    **dict.fromkeys(
        ("american", "usa", "californian", "texan", "new-york", "yankee", "midwestern",
         "southern"),
        "american",
    ),
}
# How age moves pitch and pace (added before clipping).
_AGE_SHIFTS = {"old": (-0.15, -0.2), "young": (0.1, 0.1), "middle_aged": (0.0, 0.0)}
_STRONGER = frozenset({"very", "extremely", "really", "super", "incredibly", "quite"})
_WEAKER = frozenset({"slightly", "somewhat", "mildly", "fairly", "rather", "little", "bit"})
_NEGATIONS = frozenset({"not", "no", "never", "without", "non", "nor"})
_NEGATION_REACH = 3
# Two-word forms joined before the words are looked up.
_JOINED = re.compile(
    r"\b(high|low|fast|slow|middle|grown|new)[\s-]+(pitched|aged|up|york|paced|talking)\b"
)
_WORD = re.compile(r"[a-z]+(?:['-][a-z]+)*|[,.;:!?()]")
_PUNCTUATION = frozenset(",.;:!?()")


@dataclass(frozen=True)
class VoiceTraits:
    """What a description asks of a voice.

    Attributes
    ----------
    gender, age, accent : str or None
        ``"male"``/``"female"``; ``"young"``/``"middle_aged"``/``"old"``;
        ``"american"``/``"british"``; None when the description does not say.
    pitch : float
        -1 (as deep as it gets) to 1 (as high); 0 is the voice's own.
    pace : float
        -1 (slowest) to 1 (fastest).
    words : frozenset of str
        The description's words, negated ones left out (to match the voices' tone labels).
    """

    gender: str | None
    age: str | None
    accent: str | None
    pitch: float
    pace: float
    words: frozenset[str]

    def labels(self) -> dict[str, str]:
        """The voice labels the traits fill in (gender, age, accent), as the catalog writes them."""
        found = {"gender": self.gender, "age": self.age, "accent": self.accent}
        return {key: value for key, value in found.items() if value is not None}


def parse_description(description: str) -> VoiceTraits:
    """Read the traits a description asks for (see the module docstring).

    Parameters
    ----------
    description : str
        Free text in English.

    Returns
    -------
    VoiceTraits
    """
    text = _JOINED.sub(r"\1-\2", description.lower().replace("’", "'"))
    words = _WORD.findall(text)
    pitch = pace = 0.0
    gender = age = accent = None
    kept: set[str] = set()
    for index, word in enumerate(words):
        if _negated(words[max(0, index - _NEGATION_REACH) : index]):
            continue
        kept.add(word)
        strength = 1.0
        if index and words[index - 1] in _STRONGER:
            strength = 1.5
        elif index and words[index - 1] in _WEAKER:
            strength = 0.5
        pitch += PITCH_WORDS.get(word, 0.0) * strength
        pace += PACE_WORDS.get(word, 0.0) * strength
        gender = gender or _GENDER_WORDS.get(word)
        age = age or _AGE_WORDS.get(word)
        accent = accent or _ACCENT_WORDS.get(word)
    if age is not None:
        pitch_shift, pace_shift = _AGE_SHIFTS[age]
        pitch += pitch_shift
        pace += pace_shift
    return VoiceTraits(
        gender=gender,
        age=age,
        accent=accent,
        pitch=_clip(pitch),
        pace=_clip(pace),
        words=frozenset(kept - _PUNCTUATION),
    )


def _negated(before: list[str]) -> bool:
    """Whether a negation among ``before`` reaches the next word (no punctuation between)."""
    for earlier in reversed(before):
        if earlier in _PUNCTUATION:
            return False
        if earlier in _NEGATIONS:
            return True
    return False


def _clip(value: float) -> float:
    return round(max(-1.0, min(1.0, value)), 3)
