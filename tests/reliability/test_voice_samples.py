"""Adding and editing voices from samples: bounded memory, all or nothing, limits that hold.

* A long sample (600 s at 16 kHz, 1200 s at 8 kHz) or 25 samples in one request are analysed
  without the server's memory growing with their length (measured on a CLI server process).
* A hostile file name (NUL, slashes, dots) never reaches a path and never breaks an add: the
  voice is stored with every sample, or not at all.
* ``max_cloned_voices`` and ``max_samples_per_voice`` hold under parallel requests.
"""

from __future__ import annotations

import re
import threading

import pytest
import requests

from .bad_inputs import readable
from .harness import ServerProcess, error_message, error_status, stored_files
from .probe_voice_memory import add_voice_memory, repeated_wav, speech_pcm, wav_bytes

MEMORY_LIMIT = 100 * 1024 * 1024  # the README's figure for one 600 s sample
TIMEOUT = 300
STORED_SAMPLE_NAME = re.compile(r"[A-Za-z0-9]+(\.[a-z0-9]{1,8})?")


# -- memory ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_server(tmp_path_factory):
    """A ``xiwidgets serve`` subprocess: its memory is the server's alone."""
    with ServerProcess(tmp_path_factory.mktemp("voice-memory")) as server:
        yield server


def _voice(server, voice_id: str) -> dict:
    response = requests.get(f"{server.base_url}/v1/voices/{voice_id}", timeout=TIMEOUT)
    response.raise_for_status()
    return response.json()


@pytest.mark.parametrize(
    ("rate", "seconds", "count"),
    [(16000, 600, 1), (8000, 1200, 1), (16000, 60, 25)],
    ids=["one-600s-16khz", "one-1200s-8khz", "25-files-of-60s"],
)
def test_long_samples_are_analysed_in_bounded_memory(cli_server, rate, seconds, count):
    wav = repeated_wav(speech_pcm(cli_server.base_url, rate), rate, seconds)
    files = [(f"part{index}.wav", wav) for index in range(count)]

    growth, response = add_voice_memory(cli_server, files)

    assert response.status_code == 200, response.text
    assert growth <= MEMORY_LIMIT, f"server memory grew by {growth / 2**20:.0f} MiB"
    samples = _voice(cli_server, response.json()["voice_id"])["samples"]
    assert [sample["file_name"] for sample in samples] == [name for name, _ in files]
    assert all(sample["duration_secs"] == pytest.approx(seconds, abs=0.1) for sample in samples)
    assert all(sample["size_bytes"] == len(wav) for sample in samples)


# -- file names and all or nothing ------------------------------------------------------------


@pytest.fixture(scope="module")
def voice_server(tmp_path_factory):
    from xiwidgets.server import start_in_thread

    handle = start_in_thread(data_dir=tmp_path_factory.mktemp("voice-samples"))
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def sample(voice_server) -> bytes:
    """About five seconds of speech as a WAV."""
    return wav_bytes(speech_pcm(voice_server.base_url), 16000)


def _cloned_voices(server) -> list[dict]:
    response = requests.get(f"{server.base_url}/v1/voices", timeout=TIMEOUT)
    response.raise_for_status()
    return [voice for voice in response.json()["voices"] if voice["category"] == "cloned"]


def _add(server, files: list[tuple[str, bytes]], name: str = "Sampled") -> requests.Response:
    return requests.post(f"{server.base_url}/v1/voices/add", data={"name": name},
                         files=[("files", item) for item in files], timeout=TIMEOUT)


def _edit(server, voice_id: str, files: list[tuple[str, bytes]], name: str) -> requests.Response:
    return requests.post(f"{server.base_url}/v1/voices/{voice_id}/edit", data={"name": name},
                         files=[("files", item) for item in files], timeout=TIMEOUT)


def _sample_files(server, voice_id: str | None = None) -> set[str]:
    files = {path for path in stored_files(server.data_dir) if path.startswith("samples/")}
    if voice_id is None:
        return files
    return {path for path in files if path.startswith(f"samples/{voice_id}/")}


@pytest.mark.parametrize(
    "file_name",
    ["voice.wa\x00v", "voice\x00.wav", "../../../etc/passwd.wav", "take.w/av", "x." + "a" * 40,
     "名前.Wav", "..", "no-extension", "bell\x07\n.wav"],
    ids=["nul-in-extension", "nul-in-stem", "dot-dot-path", "slash-in-extension",
         "long-extension", "non-ascii", "dots-only", "no-extension", "control-chars"],
)
def test_any_file_name_gives_a_voice_with_all_its_samples(voice_server, sample, file_name):
    voices_before = len(_cloned_voices(voice_server))

    response = _add(voice_server, [(file_name, sample), ("second.wav", sample)])

    assert response.status_code == 200, response.text
    voice_id = response.json()["voice_id"]
    samples = _voice(voice_server, voice_id)["samples"]
    assert len(samples) == 2
    listed = samples[0]["file_name"]
    assert listed and all(char.isprintable() for char in listed)
    stored = _sample_files(voice_server, voice_id)
    assert len(stored) == 2
    assert all(STORED_SAMPLE_NAME.fullmatch(path.split("/")[-1]) for path in stored), stored
    assert len(_cloned_voices(voice_server)) == voices_before + 1
    requests.delete(f"{voice_server.base_url}/v1/voices/{voice_id}", timeout=TIMEOUT)
    assert _sample_files(voice_server, voice_id) == set()


@pytest.mark.parametrize("bad", ["not-audio", "truncated", "empty"])
def test_a_refused_add_stores_no_voice_and_no_file(voice_server, sample, bad):
    unusable = {"not-audio": b"these are not the samples you are looking for" * 50,
                "truncated": sample[:40], "empty": b""}[bad]
    voices_before = _cloned_voices(voice_server)
    files_before = stored_files(voice_server.data_dir)

    response = _add(voice_server, [("good.wav", sample), ("bad.wav", unusable)])

    assert response.status_code == 400
    assert error_status(response.json()) == "invalid_audio_sample"
    assert readable(error_message(response.json()))
    assert _cloned_voices(voice_server) == voices_before
    assert stored_files(voice_server.data_dir) == files_before


# -- limits under concurrency ----------------------------------------------------------------


def _in_parallel(count: int, call) -> list[requests.Response]:
    """Run ``call(index)`` on ``count`` threads released together; responses in index order."""
    barrier = threading.Barrier(count)
    responses: list[requests.Response | None] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        responses[index] = call(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(response is not None for response in responses)
    return responses  # type: ignore[return-value]


def test_parallel_adds_never_pass_the_voice_limit(tmp_path, voice_server):
    from xiwidgets.server import start_in_thread

    # Samples long enough that every request is still being analysed when the first commits.
    longer = repeated_wav(speech_pcm(voice_server.base_url), 16000, 30)
    server = start_in_thread(data_dir=tmp_path, max_cloned_voices=3)
    try:
        responses = _in_parallel(8, lambda index: _add(server, [("s.wav", longer)],
                                                       name=f"Parallel {index}"))

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] * 3 + [400] * 5, [r.text for r in responses]
        for refused in (r for r in responses if r.status_code == 400):
            assert error_status(refused.json()) == "voice_limit_reached"
            assert readable(error_message(refused.json()))
        voices = _cloned_voices(server)
        assert len(voices) == 3
        assert all(len(voice["samples"]) == 1 for voice in voices)
        # Refused adds wrote no file that stays behind.
        assert len(_sample_files(server)) == 3
        # The limit counts voices, not attempts: deleting one makes room again.
        requests.delete(f"{server.base_url}/v1/voices/{voices[0]['voice_id']}", timeout=TIMEOUT)
        assert _add(server, [("s.wav", longer)]).status_code == 200
    finally:
        server.stop()


def test_an_edit_that_would_pass_the_sample_limit_changes_nothing(voice_server, sample):
    limit = voice_server.config.max_samples_per_voice
    voice_id = _add(voice_server, [("first.wav", sample)], name="Growing").json()["voice_id"]
    files_before = _sample_files(voice_server, voice_id)

    refused = _edit(voice_server, voice_id, [("more.wav", sample)] * limit, name="Renamed")

    assert refused.status_code == 400
    assert error_status(refused.json()) == "too_many_samples"
    message = error_message(refused.json())
    assert readable(message) and str(limit) in message
    voice = _voice(voice_server, voice_id)
    assert voice["name"] == "Growing" and len(voice["samples"]) == 1
    assert _sample_files(voice_server, voice_id) == files_before

    # Up to the limit is fine; one more is not.
    assert _edit(voice_server, voice_id, [("more.wav", sample)] * (limit - 1),
                 name="Full").status_code == 200
    assert len(_voice(voice_server, voice_id)["samples"]) == limit
    assert _edit(voice_server, voice_id, [("one.wav", sample)], name="Over").status_code == 400
    assert len(_voice(voice_server, voice_id)["samples"]) == limit
    assert len(_sample_files(voice_server, voice_id)) == limit
    requests.delete(f"{voice_server.base_url}/v1/voices/{voice_id}", timeout=TIMEOUT)


def test_parallel_edits_never_pass_the_sample_limit(voice_server, sample):
    limit = voice_server.config.max_samples_per_voice
    voice_id = _add(voice_server, [("first.wav", sample)], name="Shared").json()["voice_id"]
    per_edit = 8  # 1 + 3 × 8 = 25 fits; a fourth edit would pass the limit

    responses = _in_parallel(4, lambda index: _edit(
        voice_server, voice_id, [(f"edit{index}.wav", sample)] * per_edit, name="Shared"))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 200, 200, 400], [r.text for r in responses]
    refused = next(r for r in responses if r.status_code == 400)
    assert error_status(refused.json()) == "too_many_samples"
    samples = _voice(voice_server, voice_id)["samples"]
    assert len(samples) == 1 + 3 * per_edit == limit
    assert len(_sample_files(voice_server, voice_id)) == limit
    requests.delete(f"{voice_server.base_url}/v1/voices/{voice_id}", timeout=TIMEOUT)


def test_sample_files_left_by_a_crash_before_commit_are_removed_at_start(tmp_path, sample):
    from xiwidgets.server import start_in_thread

    server = start_in_thread(data_dir=tmp_path)
    voice_id = _add(server, [("kept.wav", sample)]).json()["voice_id"]
    kept = _sample_files(server, voice_id)
    server.stop()
    # What a crash between writing the files and committing their rows leaves behind.
    (tmp_path / "samples" / voice_id / "Uncommitted0000.wav").write_bytes(sample)
    (tmp_path / "samples" / "NeverCommittedVoice0").mkdir()
    (tmp_path / "samples" / "NeverCommittedVoice0" / "Sample000000.wav").write_bytes(sample)

    server = start_in_thread(data_dir=tmp_path)
    try:
        assert _sample_files(server) == kept
        assert not (tmp_path / "samples" / "NeverCommittedVoice0").exists()
        assert [s["file_name"] for s in _voice(server, voice_id)["samples"]] == ["kept.wav"]
    finally:
        server.stop()
