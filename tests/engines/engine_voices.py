"""Engine voices the engine tests speak with (plain values, importable from any test)."""

from xiwidgets.server.engines import VoiceSpec
from xiwidgets.server.engines.registry import registered_engines

JOE = VoiceSpec("piper", "en_US-joe-medium", "en")
ESPEAK_FEMALE = VoiceSpec("espeak", "en-us", "en", variant="f2")
ESPEAK_MALE = VoiceSpec("espeak", "en", "en", variant="m3")

# One voice per registered engine: the capability checks of test_synthesis speak with the
# voice of every engine that claims the capability (test_registry requires an entry for
# every engine). ESPEAK_FEMALE breathes, so its seed shows in the audio.
ENGINE_TEST_VOICES = {"piper": JOE, "espeak": ESPEAK_FEMALE}


def voices_of_engines(claims: str | None = None) -> list[VoiceSpec]:
    """The test voice of every registered engine (that claims capability ``claims``)."""
    return [
        ENGINE_TEST_VOICES[info.name]
        for info in registered_engines()
        if info.name in ENGINE_TEST_VOICES and (claims is None or getattr(info, claims))
    ]


def engine_ids(voice: VoiceSpec) -> str:
    """Test id of a voice: its engine's name."""
    return voice.engine
