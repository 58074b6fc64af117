"""Voices: list, search with pagination, find by name, settings, add (clone), edit, delete,
and the samples of a cloned voice (download, delete)."""

from __future__ import annotations

import builtins
import json
import mimetypes
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xiwidgets.client import endpoints
from xiwidgets.client.errors import AuthenticationError, NotFound
from xiwidgets.client.types import Voice, VoicePage, VoiceSettings

if TYPE_CHECKING:
    from xiwidgets.client.transport import Transport

VoiceRef = Voice | str
SampleFile = str | Path | bytes | tuple[str, bytes]
SettingsLike = VoiceSettings | Mapping[str, Any]


def settings_dict(settings: SettingsLike | None) -> dict[str, Any] | None:
    """The JSON object for ``settings`` (a :class:`VoiceSettings` or a plain mapping)."""
    if settings is None:
        return None
    if isinstance(settings, VoiceSettings):
        return settings.to_dict()
    return {k: v for k, v in settings.items() if v is not None}


def _sample_part(index: int, sample: SampleFile) -> tuple[str, tuple[str, bytes, str]]:
    """One ``files`` part of a multipart upload, named and typed so the server can decode it."""
    if isinstance(sample, tuple):
        name, data = sample
    elif isinstance(sample, bytes):
        name = f"sample-{index}{_sniff_extension(sample)}"
        data = sample
    else:
        path = Path(sample)
        name, data = path.name, path.read_bytes()
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return ("files", (name, data, mime))


def _sniff_extension(data: bytes) -> str:
    if data[:4] == b"RIFF":
        return ".wav"
    if data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return ".mp3"
    if data[:4] == b"OggS":
        return ".ogg"
    if data[:4] == b"fLaC":
        return ".flac"
    return ".bin"


def _by_name(voices: Sequence[Voice], name: str) -> Voice | None:
    """The first voice called ``name``, ignoring case and surrounding spaces."""
    wanted = name.strip().casefold()
    return next((v for v in voices if (v.name or "").casefold() == wanted), None)


def _match(wanted: str, voices: Sequence[Voice]) -> str | None:
    """The voice_id of the voice whose id, or else name, is ``wanted``."""
    if any(v.voice_id == wanted for v in voices):
        return wanted
    found = _by_name(voices, wanted)
    return found.voice_id if found else None


class SampleAudio:
    """``client.voices.samples.audio``: a sample's audio file (the SDK's
    ``voices.samples.audio``)."""

    def __init__(self, transport: Transport, voices: Voices) -> None:
        self._transport = transport
        self._voices = voices

    def get(self, voice: VoiceRef, sample_id: str) -> bytes:
        """The sample's audio as it was uploaded
        (``GET /v1/voices/{voice_id}/samples/{sample_id}/audio``).

        Raises
        ------
        NotFound
            The voice has no sample with this id.
        """
        path = endpoints.voice_sample_audio(self._voices.resolve_id(voice), sample_id)
        return self._transport.request("GET", path).content


class VoiceSamples:
    """``client.voices.samples``: the audio samples a cloned voice was made from."""

    def __init__(self, transport: Transport, voices: Voices) -> None:
        self._transport = transport
        self._voices = voices
        self.audio = SampleAudio(transport, voices)

    def delete(self, voice: VoiceRef, sample_id: str) -> None:
        """Remove one sample from a voice (the SDK's ``samples.delete``); the server measures
        a cloned voice again on the samples left.

        Raises
        ------
        NotFound
            The voice has no sample with this id.
        """
        voice_id = self._voices.resolve_id(voice)
        self._transport.json("DELETE", endpoints.voice_sample(voice_id, sample_id))
        self._voices.forget_cache()


class Voices:
    """``client.voices``: the voices the account (or the local server) offers."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._cache: list[Voice] | None = None
        self._unknown: set[str] = set()
        self._lock = threading.Lock()
        self.samples = VoiceSamples(transport, self)

    def list(self, show_legacy: bool = False) -> list[Voice]:
        """All voices (``GET /v1/voices``).

        Parameters
        ----------
        show_legacy : bool
            Include legacy premade voices.

        Returns
        -------
        list of Voice
        """
        data = self._transport.json("GET", endpoints.VOICES,
                                    params={"show_legacy": str(show_legacy).lower()})
        voices = [Voice.from_dict(v) for v in data.get("voices") or ()]
        with self._lock:
            self._cache = voices
        return voices

    def search(self, search: str | None = None, page_size: int = 10, sort: str | None = None,
               sort_direction: str | None = None, voice_type: str | None = None,
               category: str | None = None, voice_ids: Sequence[str] | None = None,
               next_page_token: str | None = None, **extra: Any) -> VoicePage:
        """One page of voices (``GET /v2/voices``).

        Parameters
        ----------
        search : str, optional
            Matches name, description, labels and category.
        page_size : int
            Voices per page (at most 100).
        sort, sort_direction : str, optional
            ``"created_at_unix"`` or ``"name"``; ``"asc"`` or ``"desc"``.
        voice_type, category : str, optional
            Filters (``"personal"``, ``"default"``…; ``"premade"``, ``"cloned"``…).
        voice_ids : sequence of str, optional
            Only these voices.
        next_page_token : str, optional
            ``VoicePage.next_page_token`` of the previous page.
        **extra
            Further query parameters of newer API versions.

        Returns
        -------
        VoicePage
        """
        params = {"search": search, "page_size": page_size, "sort": sort,
                  "sort_direction": sort_direction, "voice_type": voice_type,
                  "category": category, "voice_ids": list(voice_ids) if voice_ids else None,
                  "next_page_token": next_page_token, **extra}
        return VoicePage.from_dict(self._transport.json("GET", endpoints.VOICES_V2,
                                                        params=params))

    def iter_all(self, **filters: Any) -> Iterator[Voice]:
        """Every voice matching ``filters`` (see :meth:`search`), following page tokens."""
        token = filters.pop("next_page_token", None)
        while True:
            page = self.search(**filters, next_page_token=token)
            yield from page.voices
            token = page.next_page_token
            if not page.has_more or not token:
                return

    def find(self, name: str) -> Voice:
        """The voice called ``name`` (case-insensitive).

        Parameters
        ----------
        name : str
            A voice name such as ``"Joe"``.

        Returns
        -------
        Voice

        Raises
        ------
        NotFound
            No voice has that name; the message lists the available names.
        """
        voices, fresh = self._cached(refresh=False)
        found = _by_name(voices, name)
        if found is None and not fresh:  # maybe added since the list was fetched
            voices, _ = self._cached(refresh=True)
            found = _by_name(voices, name)
        if found is not None:
            return found
        names = ", ".join(sorted(v.name for v in voices if v.name)[:20])
        raise NotFound(f"No voice is called {name!r}. Available voices: {names or 'none'}.",
                       code="voice_not_found", status_code=None)

    def resolve_id(self, voice: VoiceRef) -> str:
        """The voice_id for a :class:`Voice`, a voice_id or a voice name.

        Names are looked up in the voice list, fetched once per client; a string that is
        neither a known id nor a known name is passed on as an id, so the server's
        ``voice_not_found`` error reaches the caller.
        """
        if isinstance(voice, Voice):
            return voice.voice_id
        if not isinstance(voice, str) or not voice.strip():
            raise TypeError(f"voice must be a Voice, a voice_id or a voice name, not {voice!r}")
        if voice in self._unknown:
            return voice
        try:
            voices, fresh = self._cached(refresh=False)
            found = _match(voice, voices)
            if found is None and not fresh:  # maybe added since the list was fetched
                found = _match(voice, self._cached(refresh=True)[0])
        except AuthenticationError:
            # A key restricted to text to speech may not list voices: take the string as an id.
            return voice
        if found is not None:
            return found
        # Remembered so that ids outside the list (shared voices) cost one listing, not one each.
        self._unknown.add(voice)
        return voice

    def _cached(self, refresh: bool) -> tuple[builtins.list[Voice], bool]:
        """The voice list and whether it was fetched just now."""
        with self._lock:
            cached = self._cache
        if cached is None or refresh:
            return self.list(), True
        return cached, False

    def forget_cache(self) -> None:
        """Forget the voice list used for name lookups (after voices change elsewhere)."""
        with self._lock:
            self._cache = None
            self._unknown.clear()

    def get(self, voice: VoiceRef) -> Voice:
        """One voice (``GET /v1/voices/{voice_id}``)."""
        return Voice.from_dict(self._transport.json("GET", endpoints.voice(self.resolve_id(voice))))

    def preview(self, voice: VoiceRef) -> bytes:
        """The voice's preview clip (usually MP3), fetched from its ``preview_url``.

        The API key is sent only when the clip is served by the API server itself, never to
        another host (the hosted API keeps previews on a storage host).

        Raises
        ------
        NotFound
            The voice has no preview.
        """
        if not (isinstance(voice, Voice) and voice.preview_url):
            voice = self.get(voice)
        if not voice.preview_url:
            raise NotFound(f"Voice {voice.name or voice.voice_id!r} has no preview clip.",
                           code="preview_not_found")
        base = self._transport.base_url
        if voice.preview_url.startswith(base + "/"):
            return self._transport.request("GET", voice.preview_url[len(base):]).content
        return self._transport.fetch_without_key(voice.preview_url)

    def default_settings(self) -> VoiceSettings:
        """The settings voices use unless told otherwise."""
        return VoiceSettings.from_dict(
            self._transport.json("GET", endpoints.VOICE_DEFAULT_SETTINGS))

    def get_settings(self, voice: VoiceRef) -> VoiceSettings:
        """A voice's stored settings."""
        return VoiceSettings.from_dict(
            self._transport.json("GET", endpoints.voice_settings(self.resolve_id(voice))))

    def edit_settings(self, voice: VoiceRef, settings: SettingsLike) -> None:
        """Store new settings for a voice."""
        # Storing the same settings twice leaves them as once: safe to resend.
        self._transport.json("POST", endpoints.voice_settings_edit(self.resolve_id(voice)),
                             json=settings_dict(settings), idempotent=True)

    def add(self, name: str, files: Sequence[SampleFile], description: str | None = None,
            labels: Mapping[str, str] | None = None,
            remove_background_noise: bool = False) -> Voice:
        """Clone a voice from audio samples (``POST /v1/voices/add``).

        Parameters
        ----------
        name : str
            Name of the new voice.
        files : sequence of path, bytes or (filename, bytes)
            Audio samples of the speaker.
        description : str, optional
            A sentence about the voice.
        labels : mapping of str to str, optional
            E.g. ``{"accent": "british"}``.
        remove_background_noise : bool
            Ask the server to clean the samples first.

        Returns
        -------
        Voice
            The new voice, as the API lists it.
        """
        parts = [_sample_part(i, f) for i, f in enumerate(files)]
        data = self._form(name, description, labels, remove_background_noise)
        created = self._transport.json(
            "POST", endpoints.VOICE_ADD, data=data, files=parts,
            in_doubt=lambda _info: (f"The voice may have been added: look for {name!r} in "
                                    "client.voices.list() before adding it again."))
        self.forget_cache()
        return self.get(created["voice_id"])

    def blend(self, name: str,
              voices: Mapping[VoiceRef, float] | Sequence[tuple[VoiceRef, float]],
              description: str | None = None,
              labels: Mapping[str, str] | None = None) -> Voice:
        """Store a weighted blend of Kokoro voices (``POST /v1/voices/blend``, local server only).

        The style vectors of the voices are mixed by weight (normalized to sum to 1); the
        blend is then a voice like any other, listed with ``is_mixed`` and spoken by every
        text-to-speech method. The hosted API has no such endpoint (it answers 404).

        Parameters
        ----------
        name : str
            Name of the new voice.
        voices : mapping or sequence of (voice, weight)
            Kokoro voices (a :class:`Voice`, a voice_id or a name such as ``"Bella"``) and
            their weights, e.g. ``{"Bella": 0.5, "Adam": 0.5}``.
        description : str, optional
            Defaults to the voices and their shares.
        labels : mapping of str to str, optional
            Added to the labels the voices share and the ``blend`` label.

        Returns
        -------
        Voice
            The new voice, as the API lists it.

        Raises
        ------
        InvalidRequest
            No voice, a voice that is not a Kokoro voice, or weights that do not sum to a
            positive number (nothing is stored).
        """
        pairs = voices.items() if isinstance(voices, Mapping) else voices
        body: dict[str, Any] = {
            "name": name,
            "voices": [{"voice_id": self.resolve_id(voice), "weight": float(weight)}
                       for voice, weight in pairs],
        }
        if description is not None:
            body["description"] = description
        if labels is not None:
            body["labels"] = dict(labels)
        created = self._transport.json(
            "POST", endpoints.VOICE_BLEND, json=body,
            in_doubt=lambda _info: (f"The blend may have been stored: look for {name!r} in "
                                    "client.voices.list() before blending again."))
        self.forget_cache()
        return self.get(created["voice_id"])

    def edit(self, voice: VoiceRef, name: str, files: Sequence[SampleFile] | None = None,
             description: str | None = None, labels: Mapping[str, str] | None = None,
             remove_background_noise: bool = False) -> None:
        """Rename a voice, change its description/labels, or add samples."""
        parts = [_sample_part(i, f) for i, f in enumerate(files or ())]
        data = self._form(name, description, labels, remove_background_noise)
        voice_id = self.resolve_id(voice)
        # Renaming or relabelling twice is harmless; adding the same samples twice is not.
        self._transport.json(
            "POST", endpoints.voice_edit(voice_id), data=data, files=parts or None,
            idempotent=not parts,
            in_doubt=lambda _info: (f"The samples may have been added: check "
                                    f"client.voices.get({voice_id!r}) before sending them again."))
        self.forget_cache()

    def delete(self, voice: VoiceRef) -> None:
        """Delete a voice you own."""
        self._transport.json("DELETE", endpoints.voice(self.resolve_id(voice)))
        self.forget_cache()

    @staticmethod
    def _form(name: str, description: str | None, labels: Mapping[str, str] | None,
              remove_background_noise: bool) -> dict[str, str]:
        form = {"name": name, "remove_background_noise": str(remove_background_noise).lower()}
        if description is not None:
            form["description"] = description
        if labels is not None:
            form["labels"] = json.dumps(dict(labels))
        return form
