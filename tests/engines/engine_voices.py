"""Engine voices the engine tests speak with (plain values, importable from any test)."""

import pytest

from xiwidgets.server.engines import VoiceSpec
from xiwidgets.server.engines.kokoro_assets import check_assets
from xiwidgets.server.engines.registry import registered_engines

JOE = VoiceSpec("piper", "en_US-joe-medium", "en")
ESPEAK_FEMALE = VoiceSpec("espeak", "en-us", "en", variant="f2")
ESPEAK_MALE = VoiceSpec("espeak", "en", "en", variant="m3")
KOKORO = VoiceSpec("kokoro", "af_heart", "en")

# Kokoro speaks only once its assets are installed (`xiwidgets voices install`; `make test`
# does it): its checks skip, saying so, on a machine without them.
needs_kokoro_assets = pytest.mark.skipif(
    check_assets().assets is None, reason="Kokoro assets not installed (xiwidgets voices install)"
)

# One voice per registered engine: the capability checks of test_synthesis speak with the
# voice of every engine that claims the capability (test_registry requires an entry for
# every engine). ESPEAK_FEMALE breathes, so its seed shows in the audio.
ENGINE_TEST_VOICES = {"piper": JOE, "espeak": ESPEAK_FEMALE, "kokoro": KOKORO}
_ENGINE_MARKS = {"kokoro": [needs_kokoro_assets]}


def voices_of_engines(claims: str | None = None) -> list:
    """The test voice of every registered engine (that claims capability ``claims``).

    Each is a ``pytest.param`` with the engine's name as id, skipped when the engine's
    assets are not installed.
    """
    return [
        pytest.param(
            ENGINE_TEST_VOICES[info.name], id=info.name, marks=_ENGINE_MARKS.get(info.name, [])
        )
        for info in registered_engines()
        if info.name in ENGINE_TEST_VOICES and (claims is None or getattr(info, claims))
    ]


def engine_marks(name: str) -> list:
    """The skip marks of an engine's tests (its assets may be missing)."""
    return _ENGINE_MARKS.get(name, [])


def engine_ids(voice: VoiceSpec) -> str:
    """Test id of a voice: its engine's name."""
    return voice.engine
