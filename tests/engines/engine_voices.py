"""Engine voices the engine tests speak with (plain values, importable from any test)."""

from xiwidgets.server.engines import VoiceSpec

JOE = VoiceSpec("piper", "en_US-joe-medium", "en")
ESPEAK_FEMALE = VoiceSpec("espeak", "en-us", "en", variant="f2")
ESPEAK_MALE = VoiceSpec("espeak", "en", "en", variant="m3")
