"""The phoneme notations pronunciation rules are written in, brought to the IPA the engines read.

A phoneme rule's ``alphabet`` is ``ipa`` or ``cmu-arpabet`` (the hosted API's two). CMU Arpabet
is converted by ``phonecodes`` (a maintained table of the CMU symbols, stress digits included);
IPA is tidied of what people write around it (``/ˈtaɪ.lænd/``: slashes, brackets, syllable dots)
and of ASCII look-alikes the engines' IPA does not use (``g`` for ``ɡ``, ``r`` for ``ɹ``).
"""

from __future__ import annotations

ALPHABETS = ("ipa", "cmu-arpabet")
# Written around or between IPA symbols, never pronounced.
_NOT_PHONEMES = str.maketrans("", "", "/[]{}.|‖")
# ASCII letters typed for the IPA symbol the engines' (espeak-ng's) IPA uses.
_LOOK_ALIKES = str.maketrans({"g": "ɡ", "r": "ɹ", ":": "ː", "'": "ˈ", ",": "ˌ"})


class PhonemeNotationError(ValueError):
    """A phoneme string that cannot be read in its alphabet (the message says why)."""


def to_ipa(phoneme: str, alphabet: str) -> str:
    """The engines' IPA for ``phoneme`` written in ``alphabet``.

    Parameters
    ----------
    phoneme : str
        The rule's phonemes: IPA (``"təˈmɑːtoʊ"``, slashes allowed) or CMU Arpabet
        (``"T AH0 M AA1 T OW2"``).
    alphabet : str
        ``"ipa"`` or ``"cmu-arpabet"``.

    Returns
    -------
    str
        IPA; spaces separate words (an Arpabet string is one word).

    Raises
    ------
    PhonemeNotationError
        For another alphabet, an empty pronunciation or an Arpabet symbol CMU does not have.
    """
    if alphabet == "ipa":
        ipa = " ".join(phoneme.translate(_NOT_PHONEMES).translate(_LOOK_ALIKES).split())
    elif alphabet == "cmu-arpabet":
        ipa = _arpabet_to_ipa(phoneme)
    else:
        raise PhonemeNotationError(
            f"alphabet {alphabet!r} is not supported; use one of {', '.join(ALPHABETS)}."
        )
    if not ipa:
        raise PhonemeNotationError(f"the phoneme {phoneme!r} has no phonemes in it.")
    return ipa


def _arpabet_to_ipa(phoneme: str) -> str:
    from phonecodes import phonecodes

    symbols = phoneme.upper().split()
    unknown = [s for s in symbols if s.rstrip("012") not in _ARPABET_SYMBOLS]
    if unknown:
        raise PhonemeNotationError(
            f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not CMU Arpabet "
            "(symbols such as T AH0 M EY1 T OW2, separated by spaces)."
        )
    # phonecodes separates the IPA of each symbol by a space; an Arpabet string is one word.
    return "".join(phonecodes.convert(" ".join(symbols), "arpabet", "ipa").split())


# The 39 phonemes of the CMU Pronouncing Dictionary (vowels take a stress digit).
_ARPABET_SYMBOLS = frozenset(
    {
        "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G",
        "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T",
        "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH",
    }
)
