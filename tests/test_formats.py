"""xiwidgets.formats: the one table of output formats, and every part answering from it.

The accepted set is checked against the API contract; the server's answers, the batch runner's
files, history downloads and ``%%speak`` are checked against the table on the real local server.
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import av
import pytest
import requests
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from xiwidgets import formats
from xiwidgets.client.errors import InvalidRequest
from xiwidgets.formats import (
    CODECS,
    DEFAULT_OUTPUT_FORMAT,
    HISTORY_OUTPUT_FORMAT,
    NOTEBOOK_OUTPUT_FORMAT,
    OutputFormat,
    codec_of_extension,
    codec_of_format,
    codec_of_media_type,
    supported_names,
)
from xiwidgets.magics import register_magics

pytestmark = pytest.mark.timeout(300)

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "reference" / "elevenlabs-api.md"
# What each codec's audio has always been sent and saved as (server Content-Type, batch files).
EXPECTED = {
    "mp3": ("audio/mpeg", ".mp3"), "pcm": ("audio/pcm", ".pcm"), "ulaw": ("audio/basic", ".ulaw"),
    "alaw": ("audio/alaw", ".alaw"), "opus": ("audio/ogg", ".opus"), "wav": ("audio/wav", ".wav"),
}
ONE_PER_CODEC = [codec.names[0] for codec in CODECS.values()]
NOT_MP3 = ["pcm_16000", "opus_48000_64", "ulaw_8000"]


@pytest.fixture(scope="module")
def client(server: Any) -> Any:
    from xiwidgets.client import Client

    return Client(base_url=server.base_url)


def _contract_names() -> tuple[set[str], set[str]]:
    """``(streaming, whole-file only)`` output formats listed by the API contract."""
    if not CONTRACT.exists():
        pytest.skip("the API contract (../shared/reference) is not available")
    text = CONTRACT.read_text(encoding="utf-8")
    section = text[text.index("`output_format` values in [spec]"):text.index("Tier gates")]
    names = set(re.findall(r"`((?:mp3|pcm|ulaw|alaw|opus|wav)_[0-9_]+)`", section))
    whole_file = {name for name in names if name.startswith("wav_")}
    return names - whole_file, whole_file


# -- the table ---------------------------------------------------------------------------------


def test_the_table_accepts_exactly_the_formats_of_the_api_contract() -> None:
    streaming, whole_file = _contract_names()

    assert set(supported_names(streaming=True)) == streaming
    assert set(supported_names(streaming=False)) == streaming | whole_file
    assert len(supported_names(streaming=False)) == len(streaming | whole_file)  # no duplicates


@pytest.mark.parametrize("name", supported_names(streaming=False))
def test_every_accepted_name_parses_into_codec_rate_bitrate_media_type_and_extension(
    name: str,
) -> None:
    codec, rate, *bitrate = name.split("_")  # codec_samplerate[_bitrate], as the API documents

    fmt = OutputFormat.parse(name)

    assert (fmt.name, fmt.codec, fmt.sample_rate) == (name, codec, int(rate))
    assert fmt.bitrate == (int(bitrate[0]) if bitrate else None)
    assert (fmt.media_type, fmt.extension) == EXPECTED[codec]
    assert fmt.streamable is (codec != "wav")
    assert fmt.live_in_browser is (codec == "mp3")
    assert codec_of_format(name) is CODECS[codec]
    assert codec_of_media_type(fmt.media_type) is CODECS[codec]
    assert codec_of_extension(fmt.extension) is CODECS[codec]


@pytest.mark.parametrize(
    ("name", "streaming"),
    [("mp3_44100", False), ("mp3_44100_999", True), ("flac_44100", False), ("", True),
     ("pcm_11025", False), ("MP3_44100_128", False), ("mp3_44100_128 ", True)],
)
def test_an_unknown_name_is_refused_with_every_accepted_value(name: str, streaming: bool) -> None:
    with pytest.raises(ValueError, match="Unsupported output_format") as error:
        OutputFormat.parse(name, streaming=streaming)

    message = str(error.value)
    assert repr(name) in message and "on streaming endpoints" not in message
    listed = message.split("Accepted values: ", 1)[1].rstrip(".").split(", ")
    assert listed == supported_names(streaming=streaming)


def test_wav_is_refused_on_streaming_endpoints_saying_so() -> None:
    with pytest.raises(ValueError, match="'wav_16000' on streaming endpoints") as error:
        OutputFormat.parse("wav_16000", streaming=True)

    assert "wav_" not in str(error.value).split("Accepted values: ", 1)[1]
    assert OutputFormat.parse("wav_16000", streaming=False).sample_rate == 16000


def test_the_defaults_are_streamable_formats_of_the_table() -> None:
    for name in (DEFAULT_OUTPUT_FORMAT, NOTEBOOK_OUTPUT_FORMAT, HISTORY_OUTPUT_FORMAT):
        assert OutputFormat.parse(name, streaming=True).streamable
    # The notebook default is what the Studio can stream live.
    assert OutputFormat.parse(NOTEBOOK_OUTPUT_FORMAT).live_in_browser


def test_client_lookups_are_lenient_where_the_server_is_strict() -> None:
    # The hosted API may accept variants the local table lacks: the client still knows the codec.
    assert codec_of_format("mp3_48000_320") is CODECS["mp3"]
    assert codec_of_format("flac_44100") is None and codec_of_format(None) is None
    assert codec_of_media_type("Audio/X-WAV; charset=binary") is CODECS["wav"]
    assert codec_of_media_type("application/zip") is None
    assert codec_of_extension(".MP3") is CODECS["mp3"] and codec_of_extension(".bin") is None


def test_file_starts_are_recognised_per_codec() -> None:
    assert CODECS["mp3"].starts_like(b"ID3\x04") and CODECS["mp3"].starts_like(b"\xff\xfb\x90\x00")
    assert not CODECS["mp3"].starts_like(b"RIFF") and not CODECS["mp3"].starts_like(b"")
    assert CODECS["wav"].starts_like(b"RIFF") and not CODECS["wav"].starts_like(b"\xff\xfb\x90\x00")
    assert CODECS["pcm"].starts_like(b"\x00\x01") and not CODECS["pcm"].starts_like(b"")


# -- every part answers from it ------------------------------------------------------------------


@pytest.mark.parametrize("name", ONE_PER_CODEC)
def test_the_server_sends_each_codec_with_the_tables_media_type(client: Any, name: str) -> None:
    fmt = OutputFormat.parse(name)

    take = client.tts.convert("Joe", text=f"Format {fmt.codec}.", output_format=name)

    assert take.content_type == fmt.media_type
    if fmt.streamable:
        stream = client.tts.stream("Joe", text=f"Streamed {fmt.codec}.", output_format=name)
        assert b"".join(stream) and stream.content_type == fmt.media_type


def test_a_take_without_a_format_is_the_default_and_its_history_file_the_history_format(
    server: Any, client: Any,
) -> None:
    response = requests.post(f"{server.base_url}/v1/text-to-speech/{_joe(client)}",
                             json={"text": "No format asked for."}, timeout=60)
    response.raise_for_status()

    assert response.headers["content-type"] == OutputFormat.parse(DEFAULT_OUTPUT_FORMAT).media_type
    item = client.history.get(response.headers["history-item-id"])
    assert item.content_type == OutputFormat.parse(HISTORY_OUTPUT_FORMAT).media_type


@pytest.mark.parametrize("name", NOT_MP3)
def test_the_batch_runner_names_files_by_the_tables_extension_and_resumes_them(
    client: Any, tmp_path: Path, name: str,
) -> None:
    fmt = OutputFormat.parse(name)

    first = client.synthesize_many(["One.", "Two."], voice="Joe", out_dir=tmp_path,
                                   output_format=name, progress=False)
    again = client.synthesize_many(["One.", "Two."], voice="Joe", out_dir=tmp_path,
                                   output_format=name, progress=False)

    assert [item.status for item in first.items] == ["ok", "ok"]
    assert [Path(item.file).suffix for item in first.items] == [fmt.extension] * 2
    assert all((tmp_path / item.file).stat().st_size > 0 for item in first.items)
    assert [item.status for item in again.items] == ["skipped", "skipped"]


@pytest.mark.parametrize("download", [None, "wav"])
def test_history_downloads_are_named_and_typed_by_the_table(
    client: Any, tmp_path: Path, download: str | None,
) -> None:
    take, other = (client.tts.convert("Joe", text=f"Download {word}.", output_format="pcm_16000")
                   for word in ("me", "us"))
    codec = CODECS["wav"] if download else codec_of_format(HISTORY_OUTPUT_FORMAT)

    one = client.history.download(take.history_item_id, tmp_path, output_format=download)
    both = client.history.download([take.history_item_id, other.history_item_id],
                                   tmp_path / "both.zip", output_format=download)

    assert one.name == f"{take.history_item_id}{codec.extension}"
    assert codec.starts_like(one.read_bytes()[:4])
    with zipfile.ZipFile(both) as archive:
        assert {Path(n).suffix for n in archive.namelist()} == {codec.extension}


def test_speak_magic_plays_the_take_with_the_tables_media_type(client: Any) -> None:
    shell = InteractiveShell.instance()
    magics = register_magics(shell, client=client)
    for name in ["pcm_16000", NOTEBOOK_OUTPUT_FORMAT]:
        with capture_output() as captured:
            shell.run_cell_magic("speak", f"--voice Joe --format {name} --policy none", "Hi.\n")
        assert captured.stderr == ""
        assert magics.last_player.content_type == OutputFormat.parse(name).media_type


def test_a_name_added_to_the_table_is_served_and_named_with_no_other_edit(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    new = "mp3_32000_64"
    with pytest.raises(InvalidRequest, match=new):
        client.tts.convert("Joe", text="Not yet.", output_format=new)

    mp3 = CODECS["mp3"]
    monkeypatch.setitem(formats.CODECS, "mp3", dataclasses.replace(mp3, names=(*mp3.names, new)))
    take = client.tts.convert("Joe", text="Now it is.", output_format=new)
    batch = client.synthesize_many(["Filed."], voice="Joe", out_dir=tmp_path, output_format=new,
                                   progress=False)

    assert take.content_type == "audio/mpeg"
    with av.open(io.BytesIO(take.audio)) as container:
        assert container.streams.audio[0].rate == 32000
    assert Path(batch.items[0].file).suffix == ".mp3"
    assert new in supported_names(streaming=True)


def _joe(client: Any) -> str:
    return client.voices.find("Joe").voice_id
