"""Text normalization: numbers, money, dates, times, percentages, units and abbreviations
written out as a person reads them, before the engine speaks (``apply_text_normalization``).

Number words come from ``num2words`` (cardinals, ordinals, years, in the voice's language when
it knows it). English text gets every rule below; for a voice of another language only plain
integers are written out (in that language), since its currency, date and unit conventions are
not these. The result is a :class:`~xiwidgets.server.spoken_text.SpokenText`, which maps the
spoken text back onto the text as sent.

What ``auto`` means is the model's choice (:meth:`xiwidgets.server.catalog.Model.normalizes`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from num2words import num2words

from xiwidgets.break_tags import BreakIndex, find_breaks
from xiwidgets.server.spoken_text import SpokenText

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_MONTH_BY_PREFIX = {month[:3].lower(): month for month in _MONTHS}
_MONTH = (r"(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|"
          r"Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
# Singular and plural names of a currency's unit and of its hundredth.
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", "", ""),
    "₹": ("rupee", "rupees", "paisa", "paise"),
}
_SCALES = {"k": "thousand", "m": "million", "mn": "million", "b": "billion", "bn": "billion",
           "thousand": "thousand", "million": "million", "billion": "billion",
           "trillion": "trillion"}
# Unit symbols written after a number, with their singular and plural names.
_UNITS = {
    "km": ("kilometer", "kilometers"), "m": ("meter", "meters"),
    "cm": ("centimeter", "centimeters"), "mm": ("millimeter", "millimeters"),
    "mi": ("mile", "miles"), "ft": ("foot", "feet"), "kg": ("kilogram", "kilograms"),
    "g": ("gram", "grams"), "mg": ("milligram", "milligrams"), "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"), "oz": ("ounce", "ounces"), "l": ("liter", "liters"),
    "ml": ("milliliter", "milliliters"), "mph": ("mile per hour", "miles per hour"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "°c": ("degree Celsius", "degrees Celsius"), "°f": ("degree Fahrenheit", "degrees Fahrenheit"),
    "kwh": ("kilowatt hour", "kilowatt hours"), "kw": ("kilowatt", "kilowatts"),
    "w": ("watt", "watts"), "v": ("volt", "volts"), "hz": ("hertz", "hertz"),
    "khz": ("kilohertz", "kilohertz"), "mhz": ("megahertz", "megahertz"),
    "ghz": ("gigahertz", "gigahertz"), "kb": ("kilobyte", "kilobytes"),
    "mb": ("megabyte", "megabytes"), "gb": ("gigabyte", "gigabytes"),
    "tb": ("terabyte", "terabytes"), "ms": ("millisecond", "milliseconds"),
    "sec": ("second", "seconds"), "min": ("minute", "minutes"), "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
}
# Abbreviations read as words. Titles take the name after them, so their stop never ends a
# sentence; the others keep a stop that ends one.
_TITLES = {"mr": "Mister", "mrs": "Missus", "ms": "Miz", "dr": "Doctor", "prof": "Professor",
           "st": "Saint", "mt": "Mount", "gen": "General", "sgt": "Sergeant", "capt": "Captain"}
_ABBREVIATIONS = {"etc": "et cetera", "e.g": "for example", "i.e": "that is", "vs": "versus",
                  "approx": "approximately", "jr": "Junior", "sr": "Senior", "ave": "Avenue",
                  "no": "number", "dept": "department", "est": "established"}
# Words after which a four-digit number is a year ("in 1999", "since 2010").
_YEAR_CUES = frozenset({"in", "since", "from", "until", "till", "by", "of", "year", "around",
                        "circa", "before", "after", "during", "early", "late", "mid", "summer",
                        "winter", "spring", "autumn", "fall"})

_NUMBER = r"\d{1,3}(?:,\d{3})+|\d+"
_PATTERN = re.compile(
    "|".join([
        r"(?P<iso>\b(?P<iy>\d{4})-(?P<im>0[1-9]|1[0-2])-(?P<id>0[1-9]|[12]\d|3[01])\b)",
        rf"(?P<mdy>\b{_MONTH}\s+(?P<md>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?\b"
        r"(?:,?\s+(?P<my>\d{4})\b)?)",
        r"(?P<dmy>\b(?P<dd>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?\s+"
        + _MONTH.replace("?P<month>", "?P<dmonth>") + r"(?:\s+(?P<dy>\d{4})\b)?)",
        r"(?P<time>\b(?P<hh>[01]?\d|2[0-3]):(?P<mm>[0-5]\d)(?!\d)"
        r"(?:\s*(?P<ampm>[AaPp])\.?[Mm]\b\.?)?)",
        r"(?P<hour>\b(?P<h12>1[0-2]|0?[1-9])\s?(?P<hampm>[AaPp])\.?[Mm]\b\.?)",
        rf"(?P<money>(?P<cur>[$€£¥₹])\s?(?P<amount>{_NUMBER})(?:\.(?P<cents>\d{{1,2}}))?(?!\d)"
        r"(?:\s?(?P<scale>thousand|million|billion|trillion|[kKmMbB]n?)\b)?)",
        rf"(?P<percent>(?P<pnum>-?(?:{_NUMBER})(?:\.\d+)?)\s?%)",
        r"(?P<ordinal>\b(?P<onum>\d+)(?:st|nd|rd|th)\b)",
        r"(?P<decade>\b(?P<dec>\d{3}0)'?s\b)",
        rf"(?P<unit>(?<![\w.,])(?P<unum>-?(?:{_NUMBER})(?:\.\d+)?)\s?"
        r"(?P<usym>km/h|°[CcFf]|[A-Za-z]{1,3})(?![\w/]))",
        rf"(?P<number>(?<![\w.,])(?P<sign>-)?(?P<int>{_NUMBER})(?:\.(?P<frac>\d+))?(?![\w]|[.,]\d))",
        r"(?P<abbr>(?<![\w.])(?P<aword>e\.g|i\.e|[A-Za-z]{2,6})\.(?=\s|$))",
        r"(?P<amp>(?<=\s)&(?=\s))",
    ]),
)


def _cardinal(digits: str) -> str:
    return str(num2words(int(digits.replace(",", "")))).replace(",", "")


def _decimal(integer: str, fraction: str | None) -> str:
    words = _cardinal(integer)
    if fraction:
        words += " point " + " ".join(_cardinal(digit) for digit in fraction)
    return words


def _year(digits: str) -> str:
    return str(num2words(int(digits), to="year")).replace(",", "")


def _ordinal(number: int) -> str:
    return str(num2words(number, to="ordinal")).replace(",", "")


def _plural(amount: str, one: str, many: str) -> str:
    return one if amount.replace(",", "") in ("1", "1.0") else many


def _date(month: str, day: str, year: str | None, day_first: bool) -> str:
    name = _MONTH_BY_PREFIX[month[:3].lower()]
    said = f"the {_ordinal(int(day))} of {name}" if day_first else f"{name} {_ordinal(int(day))}"
    return f"{said} {_year(year)}" if year else said


def _time(match: re.Match[str]) -> str:
    hour, minute, ampm = int(match["hh"]), int(match["mm"]), match["ampm"]
    said = _cardinal(str(hour))
    if minute == 0:
        said += "" if ampm else (" hundred" if hour > 12 else " o'clock")
    elif minute < 10:
        said += " oh " + _cardinal(str(minute))
    else:
        said += " " + _cardinal(str(minute))
    return f"{said} {ampm.lower()} m" if ampm else said


def _money(match: re.Match[str]) -> str:
    one, many, hundredth, hundredths = _CURRENCIES[match["cur"]]
    amount, cents, scale = match["amount"], match["cents"], match["scale"]
    if scale:
        number = _decimal(amount, cents.rstrip("0") if cents else None)
        return f"{number} {_SCALES[scale.lower()]} {many}"
    value = str(int(cents.ljust(2, "0"))) if cents and hundredth else "0"
    change = f"{_cardinal(value)} {_plural(value, hundredth, hundredths)}"
    if value != "0" and int(amount.replace(",", "")) == 0:
        return change  # "$0.99": ninety-nine cents
    said = f"{_cardinal(amount)} {_plural(amount, one, many)}"
    return f"{said} and {change}" if value != "0" else said


def _number(match: re.Match[str], source: str) -> str:
    return _read_number(match["int"], match["frac"], bool(match["sign"]), source, match.start())


def _read_number(integer: str, fraction: str | None, negative: bool, source: str,
                 start: int) -> str:
    """A number as read: a year after "in"/"since"/..., a code with a leading zero digit by
    digit, otherwise its cardinal (with "point" and digits for a fraction)."""
    if fraction is None and integer.isdigit() and len(integer) == 4 and 1100 <= int(integer) < 2100:
        before = _words_before(source, start)
        if before and before[-1].lower().strip("(\"'") in _YEAR_CUES:
            return _year(integer)
    if integer.isdigit() and len(integer) > 1 and integer.startswith("0"):
        return " ".join(_cardinal(digit) for digit in integer)
    said = _decimal(integer, fraction)
    return f"minus {said}" if negative else said


def _unit(match: re.Match[str], source: str) -> str:
    number, symbol = match["unum"], match["usym"]
    integer, _, fraction = number.lstrip("-").partition(".")
    said = _read_number(integer, fraction or None, number.startswith("-"), source, match.start())
    names = _UNITS.get(symbol.lower())
    if names is None or (len(symbol) == 1 and symbol.isupper() and symbol not in "WV"):
        # A number followed by a short word ("5 in a row"): the number alone is written out.
        return said + match.group()[len(number):]
    return f"{said} {_plural(number.lstrip('-'), *names)}"


def _abbreviation(match: re.Match[str], source: str) -> str | None:
    word = match["aword"]
    key = word.lower()
    rest = source[match.end() : match.end() + 64]
    before = _words_before(source, match.start())
    named = len(before) >= 2 and before[-1][:1].isupper() and before[-2][-1:] not in ".!?"
    if key == "st" and named:
        expansion = "Street"  # "on Main St." (a name before it); "St. Mary" is a saint
    elif key in _TITLES and re.match(r"\s+[A-Z]", rest):
        return _TITLES[key]
    elif key == "no" and not re.match(r"\s+\d", rest):
        return None  # "No." that is the word no, ending a sentence
    else:
        found = _ABBREVIATIONS.get(key)
        if found is None:
            return None
        expansion = found
    if word[:1].isupper():
        expansion = expansion[:1].upper() + expansion[1:]
    return expansion + ("." if _ends_sentence(source, match.end()) else "")


def _words_before(source: str, offset: int) -> list[str]:
    """The words just before ``offset`` (a bounded look back: normalizing stays linear)."""
    return source[max(0, offset - 64) : offset].split()


def _ends_sentence(source: str, offset: int) -> bool:
    """Whether the text after ``offset`` starts a new sentence (or there is none)."""
    rest = source[offset : offset + 64]
    if not rest.strip():
        return not source[offset:].strip()
    return re.match(r"\s+[A-Z\"“]", rest) is not None


def _said(match: re.Match[str], source: str) -> str | None:
    """How the matched span is read, or ``None`` to leave it as written."""
    kind = match.lastgroup
    if match["iso"]:
        return _date(_MONTHS[int(match["im"]) - 1], match["id"], match["iy"], day_first=False)
    if match["mdy"]:
        return _date(match["month"], match["md"], match["my"], day_first=False)
    if match["dmy"]:
        return _date(match["dmonth"], match["dd"], match["dy"], day_first=True)
    handlers: dict[str, Callable[[], str | None]] = {
        "time": lambda: _time(match),
        "hour": lambda: f"{_cardinal(match['h12'])} {match['hampm'].lower()} m",
        "money": lambda: _money(match),
        "percent": lambda: f"{_number_words(match['pnum'])} percent",
        "ordinal": lambda: _ordinal(int(match["onum"])),
        "decade": lambda: _decade(match["dec"]),
        "unit": lambda: _unit(match, source),
        "number": lambda: _number(match, source),
        "abbr": lambda: _abbreviation(match, source),
        "amp": lambda: "and",
    }
    said = handlers[kind]() if kind in handlers else None
    if said is not None and kind in ("time", "hour") and match.group().endswith("."):
        # "p.m." ending a sentence: its stop is also the sentence's.
        said += "." if _ends_sentence(source, match.end()) else ""
    return said


def _number_words(number: str) -> str:
    sign = number.startswith("-")
    integer, _, fraction = number.lstrip("-").partition(".")
    said = _decimal(integer, fraction or None)
    return f"minus {said}" if sign else said


def _decade(digits: str) -> str:
    said = _year(digits)
    return said[:-1] + "ies" if said.endswith("y") else said + "s"


# A number with no words: num2words stops near 10^306 (OverflowError, each language its own
# limit) and Python reads no integer of more than 4,300 digits (ValueError).
_TOO_LONG_FOR_WORDS = (OverflowError, ValueError)
_INTEGER = re.compile(r"(?<![\w.,])\d+(?![\w]|[.,]\d)")


def normalize(text: str, language: str = "en") -> SpokenText:
    """``text`` as a person reads it aloud, with the way back to ``text``.

    Parameters
    ----------
    text : str
        The request text.
    language : str
        ISO 639-1 code of the voice that speaks it.

    Returns
    -------
    SpokenText
        Unchanged where nothing needs writing out.

    Examples
    --------
    >>> normalize("It costs $42.50.").spoken
    'It costs forty-two dollars and fifty cents.'
    """
    pieces: list[tuple[int, int, str]] = []
    # A break tag's time ("1.5s") is read by the synthesizer, not said.
    tags = BreakIndex(find_breaks(text))

    def in_tag(match: re.Match[str]) -> bool:
        return tags.overlaps(match.start(), match.end())

    if language == "en":
        for match in _PATTERN.finditer(text):
            if in_tag(match):
                continue
            try:
                said = _said(match, text)
            except _TOO_LONG_FOR_WORDS:
                continue  # spoken as written, as with normalization off
            if said is not None and said != match.group():
                pieces.append((match.start(), match.end(), said))
    else:
        for match in _INTEGER.finditer(text):
            if in_tag(match):
                continue
            try:
                said = str(num2words(int(match.group()), lang=language))
            except NotImplementedError:
                return SpokenText.unchanged(text)  # num2words does not speak this language
            except _TOO_LONG_FOR_WORDS:
                continue
            pieces.append((match.start(), match.end(), said.replace(",", "")))
    return SpokenText.from_pieces(text, pieces)
