"""client.tts takes the official SDK's argument order; the first order still works, and warns."""

from __future__ import annotations

import inspect
import warnings

import pytest

from xiwidgets.client.tts import TextToSpeech

TEXT = "The voice comes first."
SEED = 11
FORMAT = "pcm_16000"


def _audio(result: object) -> bytes:
    """The take's audio, whether the method returned a take or a stream."""
    audio = getattr(result, "audio", None)
    return audio if isinstance(audio, bytes) else result.read()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "method", ["convert", "stream", "convert_with_timestamps", "stream_with_timestamps"]
)
def test_both_orders_give_the_same_take_and_only_the_old_one_warns(client, voice_id, method):
    call = getattr(client.tts, method)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the SDK's order must not warn
        new = _audio(call(voice_id, text=TEXT, seed=SEED, output_format=FORMAT))
        sdk_keyword = _audio(call(voice_id=voice_id, text=TEXT, seed=SEED, output_format=FORMAT))

    with pytest.warns(DeprecationWarning, match=rf"write client\.tts\.{method}\(voice, text="
                      ) as positional:
        old = _audio(call(TEXT, voice_id, None, None, FORMAT, SEED))
    with pytest.warns(DeprecationWarning) as keyword_voice:
        old_keywords = _audio(call(TEXT, voice=voice_id, seed=SEED, output_format=FORMAT))

    assert new and new == sdk_keyword == old == old_keywords
    # The warning names the caller's line, not the client's.
    assert {w.filename for w in [*positional, *keyword_voice]} == {__file__}


def test_the_old_order_of_realtime_and_best_of_still_works(client, voice_id):
    with pytest.warns(DeprecationWarning, match=r"client\.tts\.realtime\(voice, text_chunks="):
        chunks = list(client.tts.realtime(["Over ", "the socket."], voice_id))
    assert b"".join(chunk.audio for chunk in chunks)
    with pytest.raises(TypeError, match=r"best_of\(\): .*'by'"):
        client.tts.best_of(TEXT, voice_id, 2, "wer", by="dnsmos")  # by given twice


def test_misuse_is_a_type_error_that_shows_the_right_call_and_bills_nothing(client, voice_id):
    before = client.user.subscription().character_count

    with pytest.raises(TypeError, match=r"only positional argument .* client\.tts\.convert"
                                        r"\(voice, text=\.\.\.\)"):
        client.tts.convert(TEXT, voice_id, text=TEXT)
    with pytest.raises(TypeError, match="voice twice"):
        client.tts.stream(voice_id, voice="Joe", text=TEXT)
    with pytest.raises(TypeError, match="both voice= and voice_id="):
        client.tts.convert(voice="Joe", voice_id=voice_id, text=TEXT)
    with pytest.raises(TypeError, match="'text'"):
        client.tts.convert(voice_id)  # the SDK's order without the text
    with pytest.raises(TypeError, match=r"convert\(\): multiple values for argument 'seed'"):
        client.tts.convert(TEXT, voice_id, None, None, FORMAT, SEED, seed=1)

    assert client.user.subscription().character_count == before


def test_the_signatures_have_the_official_sdks_shape():
    sdk = pytest.importorskip("elevenlabs.text_to_speech.client").TextToSpeechClient

    def shape(function: object) -> tuple[inspect._ParameterKind, set[inspect._ParameterKind]]:
        first, *rest = list(inspect.signature(function).parameters.values())[1:]  # no self
        return first.kind, {p.kind for p in rest} - {inspect.Parameter.VAR_KEYWORD}

    for name in ("convert", "stream", "convert_with_timestamps", "stream_with_timestamps"):
        assert shape(getattr(TextToSpeech, name)) == shape(getattr(sdk, name)) == (
            inspect.Parameter.POSITIONAL_OR_KEYWORD, {inspect.Parameter.KEYWORD_ONLY})
