"""``client.voices.samples``: download a cloned voice's sample as uploaded, delete one."""

from __future__ import annotations

import pytest

from xiwidgets.client import Client, NotFound


@pytest.fixture
def cloned(server):
    """A voice cloned from two recordings: (client, voice, uploaded bytes by sample id)."""
    with Client(base_url=server.base_url) as client:
        first = client.tts.convert("Joe", text="The first sample of this voice.",
                                   output_format="mp3_44100_128").audio
        second = client.tts.convert("Amelia", text="And this is its second sample.",
                                    output_format="mp3_44100_128").audio
        voice = client.voices.add("Sampled Clone", files=[("one.mp3", first),
                                                          ("two.mp3", second)])
        ids = [sample["sample_id"] for sample in voice.samples or ()]
        assert len(ids) == 2
        yield client, voice, dict(zip(ids, (first, second), strict=True))
        client.voices.delete(voice.voice_id)


def test_a_sample_downloads_as_it_was_uploaded(cloned):
    client, voice, uploaded = cloned
    for sample_id, audio in uploaded.items():
        assert client.voices.samples.audio.get(voice, sample_id) == audio
    # A voice name is enough, as everywhere in client.voices.
    first = next(iter(uploaded))
    assert client.voices.samples.audio.get("sampled clone", first) == uploaded[first]


def test_deleting_a_sample_leaves_the_others(cloned):
    client, voice, uploaded = cloned
    gone, kept = list(uploaded)
    client.voices.samples.delete(voice.voice_id, gone)
    left = client.voices.get(voice.voice_id).samples or ()
    assert [sample["sample_id"] for sample in left] == [kept]
    with pytest.raises(NotFound) as missing:
        client.voices.samples.audio.get(voice, gone)
    assert missing.value.code == "sample_not_found"
    with pytest.raises(NotFound):
        client.voices.samples.delete(voice, gone)
    assert client.voices.samples.audio.get(voice, kept) == uploaded[kept]
