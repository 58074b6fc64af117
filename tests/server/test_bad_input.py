"""Bad input gets the hosted API's status and a readable message, stores nothing, and the
server keeps serving."""

from __future__ import annotations

import pytest

from tests.server.helpers import character_count, get, history_count, post, voice_id_named

JOE = "__joe__"  # replaced by Joe's voice id inside the test


def _tts(path_voice: str = JOE, suffix: str = "", **request) -> tuple[str, dict]:
    return f"/v1/text-to-speech/{path_voice}{suffix}", request


BAD_TTS_REQUESTS = {
    # name: (path, request kwargs, status, detail status or 422 loc tail, words in the message)
    "empty-text": (*_tts(json={"text": ""}), 400, "invalid_text", "empty"),
    "whitespace-text": (*_tts(json={"text": "  \n\t "}), 400, "invalid_text", "whitespace"),
    "zero-width-only": (*_tts(json={"text": "\u200b\u200c\u200d"}), 400, "invalid_text", "empty"),
    "over-model-limit": (
        *_tts(json={"text": "a" * 3001, "model_id": "eleven_v3"}),
        400,
        "max_character_limit_exceeded",
        "3,000",
    ),
    "unknown-voice": (
        *_tts("NoSuchVoice000000000", json={"text": "Hello."}),
        404,
        "voice_not_found",
        "NoSuchVoice000000000",
    ),
    "unknown-model": (
        *_tts(json={"text": "Hello.", "model_id": "eleven_imaginary_v9"}),
        400,
        "model_not_found",
        "eleven_imaginary_v9",
    ),
    "bad-output-format": (
        *_tts(json={"text": "Hello."}, params={"output_format": "mp3_11_1"}),
        422,
        "output_format",
        "mp3_44100_128",
    ),
    "stability-out-of-range": (
        *_tts(json={"text": "Hello.", "voice_settings": {"stability": 1.5}}),
        422,
        "stability",
        "less than or equal to 1",
    ),
    "speed-out-of-range": (
        *_tts(json={"text": "Hello.", "voice_settings": {"speed": 3}}),
        422,
        "speed",
        "1.2",
    ),
    "text-wrong-type": (*_tts(json={"text": 42}), 422, "text", "string"),
    "settings-wrong-type": (
        *_tts(json={"text": "Hello.", "voice_settings": "calm"}),
        422,
        "voice_settings",
        "object",
    ),
    "seed-negative": (*_tts(json={"text": "Hello.", "seed": -1}), 422, "seed", "0"),
    "missing-text": (*_tts(json={"model_id": "eleven_multilingual_v2"}), 422, "text", "required"),
    "malformed-json": (
        *_tts(data=b'{"text": "Hello', headers={"content-type": "application/json"}),
        422,
        "body",
        "JSON",
    ),
    "body-over-1mb": (*_tts(json={"text": "a" * 1_100_000}), 413, "payload_too_large", "limit"),
    "stream-empty-text": (
        *_tts(suffix="/stream", json={"text": " "}), 400, "invalid_text", "empty"
    ),
    "timestamps-unknown-voice": (
        *_tts("NoSuchVoice000000000", "/with-timestamps", json={"text": "Hi."}),
        404,
        "voice_not_found",
        "voice_id",
    ),
    "stream-timestamps-bad-format": (
        *_tts(
            suffix="/stream/with-timestamps", json={"text": "Hi."}, params={"output_format": "x"}
        ),
        422,
        "output_format",
        "Unsupported",
    ),
}


@pytest.mark.parametrize("case", list(BAD_TTS_REQUESTS), ids=list(BAD_TTS_REQUESTS))
def test_bad_tts_request_is_refused_and_stores_nothing(server, case):
    path, request, status, code, words = BAD_TTS_REQUESTS[case]
    path = path.replace(JOE, voice_id_named(server, "Joe"))
    items, characters = history_count(server), character_count(server)
    response = post(server, path, **request)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    if status == 422:
        # FastAPI's validation list: where the problem is, and pydantic's short sentence.
        assert isinstance(detail, list) and code in detail[0]["loc"]
        message = detail[0]["msg"]
        assert len(message.split()) >= 2
    else:
        assert detail["status"] == code
        message = detail["message"]
        assert len(message.split()) >= 5
    assert words.lower() in message.lower()
    assert history_count(server) == items
    assert character_count(server) == characters
    assert get(server, "/v1/models").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", ""), ("get", "/audio"), ("delete", "")],
    ids=["get", "audio", "delete"],
)
def test_unknown_history_item_is_a_404(server, method, path):
    response = getattr(__import__("requests"), method)(
        f"{server.base_url}/v1/history/NoSuchItem0000000000{path}", timeout=10
    )
    assert response.status_code == 404
    assert response.json()["detail"]["status"] == "history_item_not_found"
    assert "NoSuchItem0000000000" in response.json()["detail"]["message"]


def test_paging_parameters_out_of_range_are_422(server):
    assert get(server, "/v2/voices?page_size=101").status_code == 422
    assert get(server, "/v2/voices?page_size=0").status_code == 422
    assert get(server, "/v1/history?page_size=1001").status_code == 422
    for token in ("garbage", "²"):  # "²" is a digit to Python's str.isdigit, but no number
        bad_token = get(server, "/v2/voices", params={"next_page_token": token})
        assert bad_token.status_code == 400
        assert "next_page_token" in bad_token.json()["detail"]["message"]


def test_usage_with_end_before_start_is_refused(server):
    response = get(server, "/v1/usage/character-stats?start_unix=2000&end_unix=1000")
    assert response.status_code == 400
    assert "end_unix" in response.json()["detail"]["message"]


def test_chunked_body_over_the_limit_is_a_413(server):
    def chunks():
        yield b'{"text": "'
        for _ in range(11):
            yield b"a" * 100_000
        yield b'"}'

    items = history_count(server)
    response = post(
        server,
        f"/v1/text-to-speech/{voice_id_named(server, 'Joe')}",
        data=chunks(),  # no Content-Length: the server has to count
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert "1,000,000 bytes" in response.json()["detail"]["message"]
    assert history_count(server) == items


def test_unknown_settings_voice_is_a_404(server):
    response = post(server, "/v1/voices/NoSuchVoice000000000/settings/edit", json={"speed": 1})
    assert response.status_code == 404
    assert response.json()["detail"]["status"] == "voice_not_found"


def test_timestamps_beyond_any_date_are_422_not_a_crash(server):
    huge = "-5033733484551954161991680"
    response = get(server, f"/v1/usage/character-stats?start_unix={huge}&end_unix=1")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "start_unix"]
    assert get(server, "/v1/history?date_after_unix=99999999999999999999").status_code == 422


def test_body_that_is_not_utf8_gets_a_readable_400(server):
    items = history_count(server)
    response = post(
        server,
        f"/v1/text-to-speech/{voice_id_named(server, 'Joe')}",
        data=b'{"text": "caf\xe9 \xff\xfe"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "UTF-8" in response.json()["detail"]["message"]
    assert history_count(server) == items


def test_unknown_path_is_a_404_in_the_hosted_shape(server):
    response = get(server, "/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response.json()["detail"]["status"] == "not_found"


def test_usage_by_month_at_the_end_of_representable_time(server):
    response = get(
        server,
        "/v1/usage/character-stats",
        params={
            "start_unix": 253_402_300_798_000,
            "end_unix": 253_402_300_799_000,
            "aggregation_interval": "month",
        },
    )
    assert response.status_code == 200
    assert response.json() == {"time": [253_399_622_400_000], "usage": {"All": [0]}}
