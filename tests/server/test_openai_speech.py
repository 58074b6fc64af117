"""``POST /v1/audio/speech``: the ``openai`` package speaks with local voices, billed as usual."""

from __future__ import annotations

import io
import logging

import av
import pytest

from tests.server.helpers import character_count, get, history_count, post

openai = pytest.importorskip("openai")

from xiwidgets.server.openai_speech import OPENAI_VOICES, CustomVoice, local_voice  # noqa: E402

KEY = "local-openai-key-7f3a"
TEXT = "The OpenAI client speaks with a local voice."


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    from xiwidgets.server import start_in_thread

    handle = start_in_thread(data_dir=tmp_path_factory.mktemp("openai"), api_keys=[KEY])
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def client(keyed):
    return openai.OpenAI(base_url=keyed.base_url + "/v1", api_key=KEY, max_retries=0)


def _seconds(data: bytes) -> tuple[float, str]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.rate, container.format.name


def _headers():
    return {"xi-api-key": KEY}


@pytest.mark.parametrize(
    ("response_format", "container", "media_type"),
    [
        ("mp3", "mp3", "audio/mpeg"),
        ("opus", "ogg", "audio/ogg"),
        ("aac", "aac", "audio/aac"),
        ("flac", "flac", "audio/flac"),
        ("wav", "wav", "audio/wav"),
    ],
)
def test_every_response_format_is_real_audio_of_the_take(client, response_format, container,
                                                         media_type):
    answer = client.audio.speech.create(
        model="gpt-4o-mini-tts", voice="Joe", input=TEXT, response_format=response_format
    )
    assert answer.response.headers["content-type"] == media_type
    seconds, found = _seconds(answer.content)
    assert found == container
    assert 1.5 < seconds < 8.0


def test_pcm_is_24_khz_16_bit_mono_like_openais(client):
    wav = client.audio.speech.create(model="tts-1-hd", voice="Joe", input=TEXT,
                                     response_format="wav").content
    pcm = client.audio.speech.create(model="tts-1-hd", voice="Joe", input=TEXT,
                                     response_format="pcm").content
    seconds, _ = _seconds(wav)
    assert abs(len(pcm) / 2 / 24_000 - seconds) < 0.5


def test_a_take_is_billed_and_kept_in_the_history(keyed, client):
    used, items = character_count(keyed, _headers()), history_count(keyed, _headers())
    answer = client.audio.speech.create(model="tts-1-hd", voice="nova", input=TEXT)
    assert int(answer.response.headers["character-cost"]) == len(TEXT)
    assert character_count(keyed, _headers()) == used + len(TEXT)
    assert history_count(keyed, _headers()) == items + 1
    item_id = answer.response.headers["history-item-id"]
    item = get(keyed, f"/v1/history/{item_id}", headers=_headers()).json()
    assert item["text"] == TEXT and item["model_id"] == "eleven_multilingual_v2"
    assert item["voice_name"] in OPENAI_VOICES["nova"]  # Nova (Kokoro) or its fallback


def test_tts_1_is_the_fast_model_at_its_price(keyed, client):
    answer = client.audio.speech.create(model="tts-1", voice="Joe", input=TEXT)
    assert int(answer.response.headers["character-cost"]) == round(len(TEXT) * 0.5)


def test_streaming_responses_arrive_in_pieces(client):
    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="Joe", input=TEXT + " " + TEXT, response_format="pcm"
    ) as response:
        pieces = list(response.iter_bytes(chunk_size=4096))
    assert len(pieces) > 3 and sum(map(len, pieces)) > 24_000 * 2 * 2
    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="Joe", input="Events.", stream_format="sse"
    ) as response:
        events = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert events[0].startswith('data: {"type": "speech.audio.delta"')
    assert '"speech.audio.done"' in events[-1]


def test_every_openai_voice_maps_to_the_documented_local_voice(keyed):
    registry = keyed.services.voices
    names = {record.name for record in registry.voices()}
    for openai_name, (kokoro, fallback) in OPENAI_VOICES.items():
        expected = kokoro if kokoro in names else fallback
        assert local_voice(registry, openai_name).name == expected, openai_name
        assert local_voice(registry, openai_name.upper()).name == expected
    joe = local_voice(registry, "Joe")
    assert local_voice(registry, CustomVoice(id=joe.voice_id)).voice_id == joe.voice_id


def test_a_local_voice_id_or_name_may_be_the_voice(keyed, client):
    voices = get(keyed, "/v1/voices", headers=_headers()).json()["voices"]
    joe = next(v["voice_id"] for v in voices if v["name"] == "Joe")
    by_id = client.audio.speech.create(model="tts-1-hd", voice=joe, input="By id.")
    by_object = client.audio.speech.create(model="tts-1-hd", voice={"id": "Joe"}, input="By name.")
    for answer in (by_id, by_object):
        item_id = answer.response.headers["history-item-id"]
        assert get(keyed, f"/v1/history/{item_id}", headers=_headers()).json()["voice_id"] == joe


@pytest.mark.parametrize(
    ("request_fields", "code", "param"),
    [
        ({"model": "no-such-model"}, "model_not_found", "model"),
        ({"voice": "nobody"}, "voice_not_found", "voice"),
        ({"response_format": "ogg"}, "invalid_value", "response_format"),
        ({"speed": 2.0}, "unsupported_speed", "speed"),
        ({"speed": 9.0}, "invalid_value", "speed"),
        ({"input": "x" * 4097}, "invalid_value", "input"),
        ({"input": "   "}, "invalid_text", None),
    ],
)
def test_bad_input_is_refused_in_openais_shape_before_billing(keyed, client, request_fields,
                                                              code, param):
    fields = {"model": "tts-1-hd", "voice": "nova", "input": "Hello.", **request_fields}
    used, items = character_count(keyed, _headers()), history_count(keyed, _headers())
    with pytest.raises(openai.BadRequestError) as raised:
        client.audio.speech.create(**fields)
    error = raised.value.body
    assert error["code"] == code and error["param"] == param and error["message"]
    assert error["type"] == "invalid_request_error"
    assert character_count(keyed, _headers()) == used
    assert history_count(keyed, _headers()) == items


def test_the_key_is_checked_never_logged_and_also_taken_as_xi_api_key(keyed, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = openai.OpenAI(base_url=keyed.base_url + "/v1", api_key="wrong-key-9c1d", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as raised:
        wrong.audio.speech.create(model="tts-1", voice="nova", input="Hi.")
    assert raised.value.body["code"] == "invalid_api_key"
    missing = post(keyed, "/v1/audio/speech", json={"model": "tts-1", "voice": "nova",
                                                    "input": "Hi."})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "invalid_api_key"
    by_header = post(keyed, "/v1/audio/speech", headers=_headers(),
                     json={"model": "tts-1", "voice": "Joe", "input": "Hi."})
    assert by_header.status_code == 200 and by_header.content
    assert KEY not in caplog.text and "wrong-key-9c1d" not in caplog.text


def test_a_take_over_the_quota_is_refused_as_openai_does(server_factory):
    small = server_factory(character_limit=5)
    client = openai.OpenAI(base_url=small.base_url + "/v1", api_key="any", max_retries=0)
    with pytest.raises(openai.RateLimitError) as raised:
        client.audio.speech.create(model="tts-1-hd", voice="nova", input="Far too long a text.")
    assert raised.value.body["code"] == "insufficient_quota"
