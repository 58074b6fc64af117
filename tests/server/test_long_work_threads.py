"""Long blocking work (a design, a save that speaks its preview) runs on threads of its own.

The event loop's shared worker threads (``asyncio.to_thread``: ``min(32, cores + 4)`` of
them) also serve every short blocking call: parsing an uploaded PLS file, adding a voice,
deleting a sample, loading a socket's dictionaries. Designs waiting for speech, as many as
the pool holds, left every one of those calls waiting behind them: a 200-byte dictionary
upload took as long as the designs queued before it.

The test keeps the server's one synthesis slot taken (as a long take would) while the designs
wait for it, so what waits is certain and costs no CPU.
"""

from __future__ import annotations

import os
import threading

import requests

from tests.reliability.harness import wait_until
from tests.server.helpers import character_count, post, without_kokoro

TEXT = (
    "The morning train was late again, so Maria walked to the office along the river and "
    "counted the boats."
)
DESCRIPTION = "A bright, fast female voice, young and cheerful."
PLS = (b'<?xml version="1.0" encoding="UTF-8"?><lexicon version="1.0" '
       b'xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="ipa" '
       b'xml:lang="en-US"><lexeme><grapheme>BBC</grapheme><alias>B B C</alias></lexeme>'
       b'</lexicon>')
# The event loop's shared worker threads, and one waiting design more.
SHARED_THREADS = min(32, (os.cpu_count() or 1) + 4)
WAITING = SHARED_THREADS + 1


def _designs_speaking() -> int:
    """Designs whose previews are being made (each has one preview thread with one slot)."""
    return sum(thread.name.startswith("ThreadPoolExecutor") for thread in threading.enumerate())


def test_a_pls_upload_does_not_wait_for_designs_waiting_for_speech(server_factory, tmp_path):
    with without_kokoro(tmp_path):
        single = server_factory(max_concurrent_syntheses=1)
        designs: list[requests.Response] = []

        def design() -> None:
            designs.append(post(single, "/v1/text-to-voice/design", json={
                "voice_description": DESCRIPTION, "text": TEXT}))

        designers = [threading.Thread(target=design) for _ in range(WAITING)]
        with single.services.concurrency.synthesis_slots:
            for designer in designers:
                designer.start()
            assert wait_until(lambda: _designs_speaking() >= SHARED_THREADS, 60), (
                "the designs never waited for the synthesis slot")
            upload = requests.post(
                single.base_url + "/v1/pronunciation-dictionaries/add-from-file",
                data={"name": "Acronyms"}, files={"file": ("acronyms.pls", PLS)}, timeout=30)
            assert upload.status_code == 200, upload.text
            assert not designs, "a design finished while nothing could be spoken"
        for designer in designers:
            designer.join(180)
        assert [response.status_code for response in designs] == [200] * WAITING


def _connections_to(port: int) -> int:
    import psutil

    return sum(1 for connection in psutil.Process().net_connections("tcp")
               if connection.raddr and connection.raddr.port == port
               and connection.status == psutil.CONN_ESTABLISHED)


def test_streams_of_previews_not_spoken_yet_leave_the_other_routes_answering(
        server_factory, tmp_path):
    # Starlette's shared pool for blocking routes holds 40 threads: more streams than that.
    streams = 45
    with without_kokoro(tmp_path):
        single = server_factory(max_concurrent_syntheses=1)
        answer = post(single, "/v1/text-to-voice/design", json={
            "voice_description": DESCRIPTION, "text": TEXT, "stream_previews": True})
        ids = [preview["generated_voice_id"] for preview in answer.json()["previews"]]
        heard: list[requests.Response] = []

        def listen(generated_voice_id: str) -> None:
            heard.append(requests.get(
                f"{single.base_url}/v1/text-to-voice/{generated_voice_id}/stream", timeout=180))

        listeners = [threading.Thread(target=listen, args=(ids[n % len(ids)],))
                     for n in range(streams)]
        port = int(single.base_url.rsplit(":", 1)[1])
        with single.services.concurrency.synthesis_slots:
            for listener in listeners:
                listener.start()
            assert wait_until(lambda: _connections_to(port) >= streams, 60)
            voices = requests.get(single.base_url + "/v1/voices", timeout=30)
            assert voices.status_code == 200
            assert not heard, "a preview was streamed while nothing could be spoken"
        for listener in listeners:
            listener.join(180)
        assert [response.status_code for response in heard] == [200] * streams
        assert len({response.content for response in heard}) == len(ids)


def test_requests_for_a_voice_preview_not_spoken_yet_leave_the_other_routes_answering(
        server_factory, tmp_path):
    # The preview route needs no key (as the hosted previews' URLs): anyone could send these.
    waiting = 45
    with without_kokoro(tmp_path):
        single = server_factory(max_concurrent_syntheses=1)
        voice = requests.get(single.base_url + "/v1/voices", timeout=30).json()["voices"][0]
        heard: list[requests.Response] = []

        def listen() -> None:
            heard.append(requests.get(
                f"{single.base_url}/v1/voices/{voice['voice_id']}/preview", timeout=180))

        listeners = [threading.Thread(target=listen) for _ in range(waiting)]
        port = int(single.base_url.rsplit(":", 1)[1])
        with single.services.concurrency.synthesis_slots:
            for listener in listeners:
                listener.start()
            assert wait_until(lambda: _connections_to(port) >= waiting, 60)
            models = requests.get(single.base_url + "/v1/models", timeout=30)
            assert models.status_code == 200
            assert not heard, "a preview was sent while nothing could be spoken"
        for listener in listeners:
            listener.join(180)
        assert [response.status_code for response in heard] == [200] * waiting
        assert len({response.content for response in heard}) == 1


def _design_threads() -> int:
    return sum(thread.name == "xiwidgets-design" for thread in threading.enumerate())


def test_a_design_whose_client_hung_up_stops_and_bills_nothing(server_factory, tmp_path):
    # A client that gave up waiting (and may ask again) must not pay for previews it never got.
    with without_kokoro(tmp_path):
        single = server_factory(max_concurrent_syntheses=1)
        used = character_count(single)
        with single.services.concurrency.synthesis_slots:
            try:
                requests.post(single.base_url + "/v1/text-to-voice/design",
                              json={"voice_description": DESCRIPTION, "text": TEXT}, timeout=1)
            except requests.exceptions.ReadTimeout:
                pass
            else:
                raise AssertionError("the design answered while nothing could be spoken")
        assert wait_until(lambda: _design_threads() == 0, 60), "the design went on"
        assert character_count(single) == used
        # The next design, whose client waits, is made and billed as usual.
        answer = post(single, "/v1/text-to-voice/design",
                      json={"voice_description": DESCRIPTION, "text": TEXT})
        assert answer.status_code == 200 and len(answer.json()["previews"]) == 3
        assert character_count(single) == used + len(TEXT)
