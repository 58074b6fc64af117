"""The premade voices and the model list of the local server.

Voice ids are fixed 20-character strings (like the hosted service's), so code and notebooks
that store a voice id keep working across versions. Every premade voice is bound to an engine
voice: Joe is the Piper neural voice, the espeak-ng voices have a variant that sets the gender
and timbre, and the Kokoro voices are the style vectors of the Kokoro-82M model. Kokoro voices
need their assets installed (``xiwidgets voices install``): without them the catalog offers the
other voices, and a Kokoro voice id answers with how to install them
(:func:`unavailable_voice_message`).
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, replace
from importlib import resources
from typing import Any

from xiwidgets.voice_settings_rules import as_model_uses

from .engines.base import SynthesisSettings, VoiceSpec
from .engines.kokoro_assets import check_assets
from .engines.registry import EngineInfo, engine_info, find_engine

DEFAULT_MODEL_ID = "eleven_multilingual_v2"
PIPER_JOE = "en_US-joe-medium"

LANGUAGE_NAMES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "pl": "Polish", "hi": "Hindi", "sv": "Swedish",
}


@dataclass(frozen=True)
class PremadeVoice:
    """One voice of the premade catalog.

    Parameters
    ----------
    voice_id : str
        Stable 20-character id.
    name : str
        Display name, unique in the catalog.
    description : str
        One sentence a user reads in the voice picker.
    labels : dict
        ``accent``, ``gender``, ``age``, ``language``, ``use_case``, ``description``.
    spec : VoiceSpec
        The engine voice that speaks it.
    settings : SynthesisSettings
        The voice's default settings.
    preview_text : str
        What the voice says in its preview clip (in its own language).
    high_quality_base_model_ids : tuple of str
        Models this voice is meant for.
    needs_kokoro_assets : bool
        The voice is spoken only once the Kokoro assets are installed and verified.
    """

    voice_id: str
    name: str
    description: str
    labels: dict[str, str]
    spec: VoiceSpec
    settings: SynthesisSettings
    preview_text: str
    high_quality_base_model_ids: tuple[str, ...] = (
        "eleven_multilingual_v2", "eleven_turbo_v2_5", "eleven_flash_v2_5", "eleven_v3",
    )
    needs_kokoro_assets: bool = False

    def unavailable_reason(self) -> str | None:
        """Why the voice cannot speak on this machine now, or None when it can."""
        return check_assets().problem if self.needs_kokoro_assets else None

    @property
    def engine(self) -> EngineInfo:
        """The engine that speaks this voice, with its capabilities."""
        return engine_info(self.spec.engine)


def _voice(
    voice_id: str,
    name: str,
    spec: VoiceSpec,
    *,
    accent: str,
    gender: str,
    age: str,
    use_case: str,
    tone: str,
    preview: str,
) -> PremadeVoice:
    language = LANGUAGE_NAMES[spec.language]
    description = (
        f"{tone.capitalize()} {accent} {language} {gender} voice for {use_case.replace('_', ' ')}."
    )
    labels = {
        "accent": accent,
        "gender": gender,
        "age": age,
        "language": spec.language,
        "use_case": use_case,
        "description": tone,
    }
    return PremadeVoice(voice_id, name, description, labels, spec, SynthesisSettings(), preview)


def _espeak(voice: str, language: str, variant: str) -> VoiceSpec:
    return VoiceSpec("espeak", voice, language, variant=variant)


_JOE_AND_ESPEAK_VOICES: tuple[PremadeVoice, ...] = (
    _voice("WK59PFkl0JfI2yyVlbPe", "Joe", VoiceSpec("piper", PIPER_JOE, "en"),
           accent="american", gender="male", age="middle_aged", use_case="narration",
           tone="warm, natural neural",
           preview="Hi, I'm Joe. I can read your notebook's text out loud."),
    _voice("cqpyZ9NfUl36ohkjXRS4", "Riley", _espeak("en-us", "en", "f2"),
           accent="american", gender="female", age="young", use_case="conversational",
           tone="clear, synthetic",
           preview="Hi, I'm Riley. Let's hear what your text sounds like."),
    _voice("gBPrUhRZdsvDQuc8dWrd", "Amelia", _espeak("en", "en", "f3"),
           accent="british", gender="female", age="middle_aged", use_case="news",
           tone="crisp, synthetic",
           preview="Good afternoon, I'm Amelia. Here is the news."),
    _voice("E03WKpm15UELhUOuZAzH", "Oliver", _espeak("en-gb-x-rp", "en", "m3"),
           accent="british", gender="male", age="old", use_case="narration",
           tone="calm, synthetic",
           preview="Hello, I'm Oliver. Shall I read you a story?"),
    _voice("x4LP4AzUdIG1OHqttidv", "Camille", _espeak("fr", "fr", "f4"),
           accent="parisian", gender="female", age="young", use_case="conversational",
           tone="bright, synthetic",
           preview="Bonjour, je m'appelle Camille. Je lis vos textes à voix haute."),
    _voice("RzFRYToraZB3DO7GWIQt", "Julien", _espeak("fr", "fr", "m2"),
           accent="parisian", gender="male", age="middle_aged", use_case="narration",
           tone="steady, synthetic",
           preview="Bonjour, je suis Julien. Écoutez cette histoire."),
    _voice("UlmOS6ECJSRO5k0A8Uci", "Greta", _espeak("de", "de", "f1"),
           accent="standard", gender="female", age="middle_aged", use_case="educational",
           tone="precise, synthetic",
           preview="Hallo, ich bin Greta. Ich lese Ihre Texte vor."),
    _voice("0qRhSBHpvkTSOsq63Hvz", "Lukas", _espeak("de", "de", "m3"),
           accent="standard", gender="male", age="young", use_case="conversational",
           tone="friendly, synthetic",
           preview="Hallo, ich heiße Lukas. Schön, dich zu hören."),
    _voice("l8IBtPnRNbzoc51Feogd", "Lucia", _espeak("es", "es", "f3"),
           accent="castilian", gender="female", age="middle_aged", use_case="narration",
           tone="warm, synthetic",
           preview="Hola, soy Lucía. Puedo leer tus textos en voz alta."),
    _voice("vbzDp8mFmQp5zvqYMtrb", "Mateo", _espeak("es-419", "es", "m1"),
           accent="latin american", gender="male", age="young", use_case="conversational",
           tone="lively, synthetic",
           preview="Hola, me llamo Mateo. ¿Qué quieres escuchar hoy?"),
    _voice("1uvZwnZuDMjJxyZLLKcg", "Giulia", _espeak("it", "it", "f2"),
           accent="standard", gender="female", age="young", use_case="conversational",
           tone="cheerful, synthetic",
           preview="Ciao, sono Giulia. Leggo i tuoi testi ad alta voce."),
    _voice("TAOGSf9uih4vmuGMGKAu", "Beatriz", _espeak("pt-br", "pt", "f4"),
           accent="brazilian", gender="female", age="middle_aged", use_case="educational",
           tone="gentle, synthetic",
           preview="Olá, eu sou a Beatriz. Posso ler seus textos em voz alta."),
    _voice("WfpTbmRsHdRXfr8nBNXY", "Daan", _espeak("nl", "nl", "m2"),
           accent="standard", gender="male", age="middle_aged", use_case="news",
           tone="matter-of-fact, synthetic",
           preview="Hallo, ik ben Daan. Hier is het nieuws."),
    _voice("K7Gh5Qhy50B7P6nLsbWs", "Zofia", _espeak("pl", "pl", "f1"),
           accent="standard", gender="female", age="young", use_case="narration",
           tone="soft, synthetic",
           preview="Cześć, jestem Zofia. Przeczytam twój tekst na głos."),
    _voice("XAJKil8Krk3QCI33jOqw", "Priya", _espeak("hi", "hi", "f5"),
           accent="standard", gender="female", age="middle_aged", use_case="educational",
           tone="clear, synthetic",
           preview="नमस्ते, मैं प्रिया हूँ। मैं आपका पाठ पढ़ सकती हूँ।"),
    _voice("5LoVFqxtpuPzNP3MzTtp", "Astrid", _espeak("sv", "sv", "f3"),
           accent="standard", gender="female", age="old", use_case="narration",
           tone="calm, synthetic",
           preview="Hej, jag heter Astrid. Jag kan läsa din text högt."),
)


# Kokoro-82M voices: one row of kokoro_voices.csv each (voice id, Kokoro voice, display name,
# age, use case, tone). The first letter of a Kokoro voice is its language and accent, the
# second its gender. Japanese and Mandarin voices are installed with the others but not
# offered: their G2P needs packages (pyopenjtalk-plus, misaki[zh]) the server does not install.
_KOKORO_VOICES_FILE = "kokoro_voices.csv"
_KOKORO_ACCENTS = {
    "a": ("en", "american"), "b": ("en", "british"), "e": ("es", "castilian"),
    "f": ("fr", "parisian"), "h": ("hi", "standard"), "i": ("it", "standard"),
    "p": ("pt", "brazilian"),
}
_KOKORO_PREVIEWS = {
    "en": "Hi, I'm {name}. I can read your notebook's text out loud.",
    "es": "Hola, soy {name}. Puedo leer tus textos en voz alta.",
    "fr": "Bonjour, je m'appelle {name}. Je lis vos textes à voix haute.",
    "hi": "नमस्ते, मैं {name} हूँ। मैं आपका पाठ पढ़ सकती हूँ।",
    "it": "Ciao, sono {name}. Leggo i tuoi testi ad alta voce.",
    "pt": "Olá, eu sou {name}. Posso ler seus textos em voz alta.",
}


def _kokoro(
    voice_id: str, kokoro_voice: str, name: str, age: str, use_case: str, tone: str
) -> PremadeVoice:
    language, accent = _KOKORO_ACCENTS[kokoro_voice[0]]
    voice = _voice(
        voice_id, name, VoiceSpec("kokoro", kokoro_voice, language),
        accent=accent, gender="female" if kokoro_voice[1] == "f" else "male", age=age,
        use_case=use_case, tone=f"{tone}, neural",
        preview=_KOKORO_PREVIEWS[language].format(name=name),
    )
    return replace(voice, needs_kokoro_assets=True)


def _kokoro_voices() -> tuple[PremadeVoice, ...]:
    table = resources.files(__package__).joinpath(_KOKORO_VOICES_FILE)
    rows = csv.DictReader(table.read_text(encoding="utf-8").splitlines())
    return tuple(_kokoro(**row) for row in rows)


KOKORO_VOICES: tuple[PremadeVoice, ...] = _kokoro_voices()

PREMADE_VOICES: tuple[PremadeVoice, ...] = _JOE_AND_ESPEAK_VOICES + KOKORO_VOICES

_VOICES_BY_ID = {voice.voice_id: voice for voice in PREMADE_VOICES}


# What a voice added from samples says in its preview, by language.
_PREVIEW_TEXTS = {
    "en": "Hello! This is how your new voice sounds when it reads your text.",
    "fr": "Bonjour ! Voici comment votre nouvelle voix lit vos textes.",
    "de": "Hallo! So klingt Ihre neue Stimme, wenn sie Ihre Texte vorliest.",
    "es": "¡Hola! Así suena tu nueva voz cuando lee tus textos.",
    "it": "Ciao! Ecco come suona la tua nuova voce quando legge i tuoi testi.",
    "pt": "Olá! É assim que a sua nova voz lê os seus textos.",
    "nl": "Hallo! Zo klinkt je nieuwe stem als hij je tekst voorleest.",
    "pl": "Cześć! Tak brzmi twój nowy głos, kiedy czyta twój tekst.",
    "hi": "नमस्ते! आपकी नई आवाज़ आपका पाठ ऐसे पढ़ती है।",
    "sv": "Hej! Så här låter din nya röst när den läser din text.",
}


def get_premade_voice(voice_id: str) -> PremadeVoice | None:
    """Return the premade voice with this id (installed or not), or None."""
    return _VOICES_BY_ID.get(voice_id)


def premade_voices() -> list[PremadeVoice]:
    """The premade voices that can speak on this machine now, in catalog order."""
    return [voice for voice in PREMADE_VOICES if voice.unavailable_reason() is None]


def unavailable_voice_message(voice_id: str) -> str | None:
    """For a catalog voice that cannot speak now, the sentence saying why and how to fix it.

    Returns
    -------
    str or None
        None for an unknown id and for a voice that can speak.
    """
    voice = _VOICES_BY_ID.get(voice_id)
    if voice is None:
        return None
    reason = voice.unavailable_reason()
    if reason is None:
        return None
    return f"The voice {voice.name!r} (voice_id {voice_id!r}) is not available. {reason}"


def preview_text(language: str) -> str:
    """A short preview sentence in ``language`` (English when the language has none)."""
    return _PREVIEW_TEXTS.get(language, _PREVIEW_TEXTS["en"])


@dataclass(frozen=True)
class Model:
    """One entry of ``GET /v1/models`` and what it changes locally.

    Parameters
    ----------
    model_id, name, description : str
        As listed by the API; the description says what serves the model locally.
    languages : tuple of str
        ISO 639-1 codes the model speaks. A voice of any other language is read by its
        engine's voice for one of these when the engine has one (so an English-only model
        reads every voice's text with English rules; the voice keeps its variant).
    max_characters : int
        Per-request text limit (the hosted service's documented limit).
    can_use_style, can_use_speaker_boost : bool
        When False, the request's ``style`` / ``use_speaker_boost`` are ignored.
    character_cost_multiplier : float
        Characters billed per character of text.
    supports_websocket : bool
        Whether the stream-input websocket accepts the model.
    """

    model_id: str
    name: str
    description: str
    languages: tuple[str, ...]
    max_characters: int
    can_use_style: bool
    can_use_speaker_boost: bool
    character_cost_multiplier: float = 1.0
    concurrency_group: str = "standard"
    supports_websocket: bool = True

    def effective_settings(self, settings: SynthesisSettings) -> SynthesisSettings:
        """Neutralize the settings this model does not use (style, speaker boost)."""
        used = as_model_uses(
            asdict(settings),
            can_use_style=self.can_use_style,
            can_use_speaker_boost=self.can_use_speaker_boost,
        )
        return replace(settings, **used)

    def voice_spec_for(self, spec: VoiceSpec) -> VoiceSpec:
        """The engine voice to use for ``spec`` with this model (see ``languages``)."""
        engine = find_engine(spec.engine)
        if spec.language in self.languages or engine is None:
            return spec
        for language in self.languages:
            if language in engine.voices:
                return replace(spec, engine_voice=engine.voices[language], language=language)
        return spec

    def response(self) -> dict[str, Any]:
        """The ``ModelResponseModel`` JSON object."""
        return {
            "model_id": self.model_id,
            "name": self.name,
            "can_be_finetuned": False,
            "can_do_text_to_speech": True,
            "can_do_voice_conversion": False,
            "can_use_style": self.can_use_style,
            "can_use_speaker_boost": self.can_use_speaker_boost,
            "serves_pro_voices": False,
            "token_cost_factor": self.character_cost_multiplier,
            "description": self.description,
            "requires_alpha_access": False,
            "max_characters_request_free_user": self.max_characters,
            "max_characters_request_subscribed_user": self.max_characters,
            "maximum_text_length_per_request": self.max_characters,
            "languages": [
                {"language_id": code, "name": LANGUAGE_NAMES[code]} for code in self.languages
            ],
            "model_rates": {"character_cost_multiplier": self.character_cost_multiplier},
            "concurrency_group": self.concurrency_group,
        }


_ALL_LANGUAGES = tuple(LANGUAGE_NAMES)
_LOCAL = (
    "Served locally by the Kokoro-82M neural voices (41 voices in English, Spanish, French, "
    "Hindi, Italian and Portuguese, once installed with `xiwidgets voices install`), the Piper "
    "neural voice Joe for English and espeak-ng voices for ten languages."
)
_LOCAL_ENGLISH = (
    "Served locally by Joe (Piper) and the English Kokoro voices; espeak-ng voices read the "
    "text with English rules and Kokoro voices of other languages are read by Kokoro's "
    "English voice."
)

MODELS: tuple[Model, ...] = (
    Model("eleven_multilingual_v2", "Eleven Multilingual v2",
          f"Default model: the most lifelike, all languages. {_LOCAL}",
          _ALL_LANGUAGES, 10_000, can_use_style=True, can_use_speaker_boost=True),
    Model("eleven_v3", "Eleven v3",
          f"Most expressive model; not available over the websocket. {_LOCAL}",
          _ALL_LANGUAGES, 3_000, can_use_style=True, can_use_speaker_boost=False,
          supports_websocket=False),
    Model("eleven_flash_v2_5", "Eleven Flash v2.5",
          f"Lowest latency, all languages, half the character cost. {_LOCAL}",
          _ALL_LANGUAGES, 40_000, can_use_style=False, can_use_speaker_boost=False,
          character_cost_multiplier=0.5, concurrency_group="turbo"),
    Model("eleven_turbo_v2_5", "Eleven Turbo v2.5",
          f"Low latency, all languages, half the character cost. {_LOCAL}",
          _ALL_LANGUAGES, 40_000, can_use_style=True, can_use_speaker_boost=True,
          character_cost_multiplier=0.5, concurrency_group="turbo"),
    Model("eleven_flash_v2", "Eleven Flash v2",
          f"Lowest latency, English only, half the character cost. {_LOCAL_ENGLISH}",
          ("en",), 30_000, can_use_style=False, can_use_speaker_boost=False,
          character_cost_multiplier=0.5, concurrency_group="turbo"),
    Model("eleven_turbo_v2", "Eleven Turbo v2",
          f"Low latency, English only, half the character cost. {_LOCAL_ENGLISH}",
          ("en",), 30_000, can_use_style=True, can_use_speaker_boost=True,
          character_cost_multiplier=0.5, concurrency_group="turbo"),
    Model("eleven_monolingual_v1", "Eleven English v1",
          f"Legacy English-only model. {_LOCAL_ENGLISH}",
          ("en",), 10_000, can_use_style=False, can_use_speaker_boost=True),
    Model("eleven_multilingual_v1", "Eleven Multilingual v1",
          f"Legacy multilingual model. {_LOCAL}",
          _ALL_LANGUAGES, 10_000, can_use_style=False, can_use_speaker_boost=True),
)

_MODELS_BY_ID = {model.model_id: model for model in MODELS}


def get_model(model_id: str) -> Model | None:
    """Return the model with this id, or None."""
    return _MODELS_BY_ID.get(model_id)


def model_list() -> list[dict[str, Any]]:
    """The ``GET /v1/models`` response body."""
    return [model.response() for model in MODELS]
