"""Pronunciation dictionaries: the official SDK's calls, the spec's shapes, versions, PLS files
(refused when they carry a DTD or entities), and takes said with the rules — billed as sent.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import soxr
from jsonschema import Draft202012Validator
from websockets.exceptions import ConnectionClosed

from tests.server.helpers import character_count, decode_audio, get, history_count, post

elevenlabs_client = pytest.importorskip("elevenlabs.client")

# ``../shared`` beside the checkout (or beside the directory of worktrees it is one of).
SPEC_PATH = next(
    (
        path
        for parent in Path(__file__).resolve().parents[3:5]
        if (path := parent / "shared" / "reference" / "elevenlabs-openapi-subset-2.json").exists()
    ),
    None,
)
SPEC = json.loads(SPEC_PATH.read_text()) if SPEC_PATH else None
needs_spec = pytest.mark.skipif(SPEC is None, reason="official OpenAPI subset 2 not present")
BASE = "/v1/pronunciation-dictionaries"
PLS = """<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"
         alphabet="ipa" xml:lang="en-US">
  <lexeme><grapheme>Zqx</grapheme><alias>London</alias></lexeme>
  <lexeme><grapheme>red</grapheme><phoneme>ˈɡɹiːn</phoneme></lexeme>
  <lexeme><grapheme>tomato</grapheme><phoneme alphabet="x-cmu-arpabet">T AH0 M AA1 T OW2</phoneme>
  </lexeme>
</lexicon>
"""
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lexicon [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<lexicon><lexeme><grapheme>&c;</grapheme><alias>x</alias></lexeme></lexicon>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE lexicon [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<lexicon><lexeme><grapheme>a</grapheme><alias>&secret;</alias></lexeme></lexicon>
"""


def assert_conforms(payload, path: str, method: str = "get") -> None:
    if SPEC is None:
        return
    schema = SPEC["paths"][path][method]["responses"]["200"]["content"]["application/json"]
    validator = Draft202012Validator({**schema["schema"], "components": SPEC["components"]})
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]
    assert not errors, errors[:5]


@pytest.fixture(scope="module")
def sdk(server):
    return elevenlabs_client.ElevenLabs(api_key="x", base_url=server.base_url)


@pytest.fixture(scope="module")
def joe(server):
    voices = get(server, "/v1/voices").json()["voices"]
    return next(voice["voice_id"] for voice in voices if voice["name"] == "Joe")


def _hear(mp3: bytes) -> list[str]:
    from xiwidgets.experiments.whisper import WHISPER_RATE, transcribe

    samples, rate = decode_audio(mp3)
    text = transcribe(soxr.resample(samples, rate, WHISPER_RATE), language="en")
    return text.lower().replace(",", " ").replace(".", " ").split()


def test_the_sdk_creates_changes_and_downloads_a_dictionary_with_versions(server, sdk):
    from elevenlabs.pronunciation_dictionaries import (
        BodyAddAPronunciationDictionaryV1PronunciationDictionariesAddFromRulesPostRulesItem_Alias as Alias,  # noqa: E501
    )
    from elevenlabs.pronunciation_dictionaries.rules import (
        PronunciationDictionaryRule_Phoneme as Phoneme,
    )

    created = sdk.pronunciation_dictionaries.create_from_rules(
        rules=[Alias(string_to_replace="Thailand", alias="tie-land")], name="Places"
    )
    assert created.name == "Places" and created.version_rules_num == 1
    added = sdk.pronunciation_dictionaries.rules.add(
        created.id,
        rules=[Phoneme(string_to_replace="tomato", phoneme="təˈmɑːtoʊ", alphabet="ipa")],
    )
    assert added.version_rules_num == 2 and added.version_id != created.version_id
    removed = sdk.pronunciation_dictionaries.rules.remove(created.id, rule_strings=["Thailand"])
    assert removed.version_rules_num == 1
    assert len({created.version_id, added.version_id, removed.version_id}) == 3

    got = sdk.pronunciation_dictionaries.get(created.id)
    assert got.latest_version_id == removed.version_id
    assert [rule.string_to_replace for rule in got.rules] == ["tomato"]
    # Every version stays as it was: the first still has only the alias.
    first = b"".join(sdk.pronunciation_dictionaries.download(created.id, created.version_id))
    assert b"<grapheme>Thailand</grapheme>" in first and b"tomato" not in first
    latest = b"".join(sdk.pronunciation_dictionaries.download(created.id, removed.version_id))
    assert "təˈmɑːtoʊ".encode() in latest and b"Thailand" not in latest

    renamed = sdk.pronunciation_dictionaries.update(created.id, name="Food")
    assert renamed.name == "Food" and renamed.latest_version_id == removed.version_id
    listed = sdk.pronunciation_dictionaries.list(page_size=100)
    assert created.id in {d.id for d in listed.pronunciation_dictionaries}
    sdk.pronunciation_dictionaries.update(created.id, archived=True)
    listed = sdk.pronunciation_dictionaries.list(page_size=100)
    assert created.id not in {d.id for d in listed.pronunciation_dictionaries}


def test_a_pls_file_round_trips_through_the_sdk(sdk):
    created = sdk.pronunciation_dictionaries.create_from_file(
        name="From a file", file=("lexicon.pls", PLS.encode(), "application/pls+xml")
    )
    assert created.version_rules_num == 3
    rules = {r.string_to_replace: r for r in sdk.pronunciation_dictionaries.get(created.id).rules}
    assert rules["Zqx"].alias == "London"
    assert rules["tomato"].alphabet == "cmu-arpabet" and rules["red"].alphabet == "ipa"
    written = b"".join(sdk.pronunciation_dictionaries.download(created.id, created.version_id))
    again = sdk.pronunciation_dictionaries.create_from_file(
        name="Again", file=("again.pls", written, "application/pls+xml")
    )
    reread = sdk.pronunciation_dictionaries.get(again.id).rules
    assert [r.dict() for r in reread] == [r.dict() for r in rules.values()]


@needs_spec
def test_responses_conform_to_the_spec(server):
    rules = [{"string_to_replace": "Zqx", "type": "alias", "alias": "London"}]
    created = post(server, f"{BASE}/add-from-rules", json={"name": "S", "rules": rules})
    assert_conforms(created.json(), f"{BASE}/add-from-rules", "post")
    dictionary = created.json()["id"]
    one = f"{BASE}/{{pronunciation_dictionary_id}}"
    assert_conforms(get(server, f"{BASE}/{dictionary}").json(), one)
    assert_conforms(get(server, BASE + "?page_size=1").json(), BASE)
    added = post(server, f"{BASE}/{dictionary}/add-rules", json={"rules": rules})
    assert_conforms(added.json(), f"{one}/add-rules", "post")
    removed = post(server, f"{BASE}/{dictionary}/remove-rules", json={"rule_strings": ["Zqx"]})
    assert_conforms(removed.json(), f"{one}/remove-rules", "post")
    filed = post(server, f"{BASE}/add-from-file", data={"name": "F"}, files={"file": PLS.encode()})
    assert_conforms(filed.json(), f"{BASE}/add-from-file", "post")


@pytest.mark.parametrize(
    ("document", "says"),
    [
        (BILLION_LAUGHS, "document type declaration"),
        (EXTERNAL_ENTITY, "document type declaration"),
        ("<lexicon><lexeme>", "not well-formed XML"),
        ("<speak/>", "a PLS file's is <lexicon>"),
        ('<lexicon alphabet="x-sampa"><lexeme><grapheme>a</grapheme><phoneme>a</phoneme>'
         "</lexeme></lexicon>", "alphabet 'x-sampa'"),
    ],
)
def test_a_dangerous_or_broken_pls_file_is_refused_and_nothing_is_stored(server, document, says):
    before = len(get(server, BASE + "?page_size=100").json()["pronunciation_dictionaries"])
    response = post(server, f"{BASE}/add-from-file", data={"name": "bad"},
                    files={"file": document.encode()})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail["status"] == "invalid_pronunciation_rules" and says in detail["message"]
    after = len(get(server, BASE + "?page_size=100").json()["pronunciation_dictionaries"])
    assert after == before


@pytest.mark.parametrize(
    ("rule", "status", "says"),
    [
        ({"string_to_replace": "", "type": "alias", "alias": "x"}, 422, None),
        ({"string_to_replace": "a", "type": "sound", "alias": "x"}, 422, None),
        ({"string_to_replace": "a", "type": "phoneme", "phoneme": "a", "alphabet": "x-sampa"},
         400, "not supported"),
        ({"string_to_replace": "a", "type": "phoneme", "phoneme": "QQ1", "alphabet": "cmu-arpabet"},
         400, "not CMU Arpabet"),
    ],
)
def test_bad_rules_are_refused(server, rule, status, says):
    response = post(server, f"{BASE}/add-from-rules", json={"name": "bad", "rules": [rule]})
    assert response.status_code == status
    if says:
        assert says in response.json()["detail"]["message"]


def test_unknown_dictionaries_and_versions_are_404(server):
    assert get(server, f"{BASE}/nope").status_code == 404
    assert post(server, f"{BASE}/nope/add-rules", json={"rules": []}).status_code == 404
    created = post(server, f"{BASE}/add-from-rules", json={"name": "v", "rules": []}).json()
    missing = get(server, f"{BASE}/{created['id']}/nope/download")
    assert missing.status_code == 404
    assert "has no version 'nope'" in missing.json()["detail"]["message"]


def test_locators_that_do_not_resolve_cost_nothing(server, joe):
    created = post(server, f"{BASE}/add-from-rules", json={"name": "x", "rules": []}).json()
    used, taken = character_count(server), history_count(server)
    locator = {"pronunciation_dictionary_id": created["id"], "version_id": created["version_id"]}
    for locators, status in [
        ([{"pronunciation_dictionary_id": "nope"}], 404),
        ([{**locator, "version_id": "nope"}], 404),
        ([locator] * 4, 422),
    ]:
        response = post(server, f"/v1/text-to-speech/{joe}", json={
            "text": "Nothing is said.", "pronunciation_dictionary_locators": locators
        })
        assert response.status_code == status
    assert character_count(server) == used and history_count(server) == taken


def test_a_take_is_said_with_the_rules_and_billed_and_aligned_as_sent(server, joe):
    rules = [{"string_to_replace": "Zqx", "type": "alias", "alias": "London"}]
    created = post(server, f"{BASE}/add-from-rules", json={"name": "a", "rules": rules}).json()
    text = "We flew to Zqx today."
    used = character_count(server)
    response = post(server, f"/v1/text-to-speech/{joe}/with-timestamps", json={
        "text": text,
        "pronunciation_dictionary_locators": [{"pronunciation_dictionary_id": created["id"]}],
    })
    assert response.status_code == 200
    body = response.json()
    assert "london" in _hear(base64.b64decode(body["audio_base64"]))
    assert "".join(body["alignment"]["characters"]) == text
    assert character_count(server) - used == len(text)
    item = get(server, "/v1/history?page_size=1").json()["history"][0]
    assert item["text"] == text


def test_a_locator_with_an_old_version_keeps_the_old_rules(server, joe):
    rules = [
        {"string_to_replace": "red", "type": "phoneme", "phoneme": "ˈɡɹiːn", "alphabet": "ipa"}
    ]
    created = post(server, f"{BASE}/add-from-rules", json={"name": "c", "rules": rules}).json()
    post(server, f"{BASE}/{created['id']}/remove-rules", json={"rule_strings": ["red"]})

    def say(version_id):
        locator = {"pronunciation_dictionary_id": created["id"], "version_id": version_id}
        return _hear(post(server, f"/v1/text-to-speech/{joe}/stream", json={
            "text": "The colour is red.", "pronunciation_dictionary_locators": [locator]
        }).content)

    assert "green" in say(created["version_id"])
    assert "red" in say(None)


@pytest.mark.parametrize("endpoint", ["stream-input", "multi-stream-input"])
def test_the_websockets_say_their_text_with_the_rules(server, joe, endpoint):
    from websockets.sync.client import connect

    rules = [{"string_to_replace": "Zqx", "type": "alias", "alias": "London"}]
    created = post(server, f"{BASE}/add-from-rules", json={"name": "w", "rules": rules}).json()
    locator = {"pronunciation_dictionary_id": created["id"], "version_id": created["version_id"]}
    text = "We flew to Zqx today. "
    url = f"ws{server.base_url[4:]}/v1/text-to-speech/{joe}/{endpoint}"
    with connect(url) as socket:
        socket.send(json.dumps({"text": " ", "pronunciation_dictionary_locators": [locator]}))
        socket.send(json.dumps({"text": text, "flush": True}))
        end = {"text": ""} if endpoint == "stream-input" else {"close_socket": True}
        socket.send(json.dumps(end))
        messages = []
        while True:
            try:
                messages.append(json.loads(socket.recv(timeout=60)))
            except ConnectionClosed:
                break
    audio = b"".join(base64.b64decode(m["audio"]) for m in messages if m.get("audio"))
    assert "london" in _hear(audio)
    spoken = "".join("".join(m["alignment"]["chars"]) for m in messages if m.get("alignment"))
    assert spoken == text


def test_aliases_that_would_say_far_more_than_was_sent_are_refused_before_billing(server, joe):
    rules = [{"string_to_replace": "a", "type": "alias", "alias": "word " * 99}]
    created = post(server, f"{BASE}/add-from-rules", json={"name": "big", "rules": rules}).json()
    locators = [{"pronunciation_dictionary_id": created["id"]}]
    used, taken = character_count(server), history_count(server)
    for text, says in [("a " * 200, "over the model's limit"), ("a " * 3, "one clause")]:
        response = post(server, f"/v1/text-to-speech/{joe}", json={
            "text": text, "pronunciation_dictionary_locators": locators
        })
        assert response.status_code == 400
        assert says in response.json()["detail"]["message"]
    assert character_count(server) == used and history_count(server) == taken


def test_rules_added_at_the_same_time_all_land_each_in_its_own_version(server):
    from concurrent.futures import ThreadPoolExecutor

    created = post(server, f"{BASE}/add-from-rules", json={"name": "race", "rules": []}).json()

    def add(number):
        rule = {"string_to_replace": f"w{number}", "type": "alias", "alias": f"word {number}"}
        return post(server, f"{BASE}/{created['id']}/add-rules", json={"rules": [rule]}).json()

    with ThreadPoolExecutor(8) as pool:
        versions = list(pool.map(add, range(8)))
    assert len({v["version_id"] for v in versions}) == 8
    assert sorted(v["version_rules_num"] for v in versions) == list(range(1, 9))
    rules = get(server, f"{BASE}/{created['id']}").json()["rules"]
    assert sorted(r["string_to_replace"] for r in rules) == sorted(f"w{n}" for n in range(8))
