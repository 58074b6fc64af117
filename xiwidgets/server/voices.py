"""The voice registry: premade voices from the catalog, added voices from the store, their
settings, cloning from uploaded samples, and the cached previews.

Independent of HTTP: failures are :mod:`~xiwidgets.server.domain_errors`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from xiwidgets.formats import HISTORY_OUTPUT_FORMAT, OutputFormat
from xiwidgets.server import catalog
from xiwidgets.server.concurrency import SynthesisSlots
from xiwidgets.server.config import ServerConfig
from xiwidgets.server.domain_errors import (
    InvalidSampleError,
    SampleLimitReachedError,
    VoiceLimitReachedError,
    VoiceNotDeletableError,
    VoiceNotEditableError,
    VoiceNotFoundError,
    VoiceUnavailableError,
)
from xiwidgets.server.engines.kokoro_assets import check_assets
from xiwidgets.server.files import write_atomically
from xiwidgets.server.store import (
    SampleLimitError,
    Store,
    StoredSample,
    VoiceLimitError,
    new_id,
)
from xiwidgets.voice_settings_rules import DEFAULTS

if TYPE_CHECKING:
    from xiwidgets.server.cloning import VoiceProfile
    from xiwidgets.server.engines import Synthesizer


@dataclass
class VoiceRecord:
    """A voice as the server knows it: API fields plus how to synthesize it."""

    voice_id: str
    name: str
    category: str
    description: str | None
    labels: dict[str, str]
    spec: Any  # engines.VoiceSpec
    created_at_unix: int | None
    samples: list[dict[str, Any]] = field(default_factory=list)
    preview_text: str | None = None
    default_settings: dict[str, Any] = field(default_factory=lambda: dict(DEFAULTS))
    model_ids: tuple[str, ...] = ()

    @property
    def is_premade(self) -> bool:
        """Premade voices come from the catalog and cannot be deleted."""
        return self.category == "premade"

    @property
    def preview_tag(self) -> str:
        """Changes whenever what the preview would sound like changes."""
        key = json.dumps([repr(self.spec), self.preview_text], sort_keys=True)
        return hashlib.sha1(key.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class SampleUpload:
    """One uploaded voice sample: its name and type as sent, and a seekable file of it."""

    file_name: str
    mime_type: str
    file: IO[bytes]


class VoiceRegistry:
    """Every voice of the server, and the changes made to them.

    Parameters
    ----------
    config : ServerConfig
        The voice and sample limits.
    store : Store
        Added voices, their samples, settings and previews.
    synthesizer : Synthesizer
        Speaks the previews.
    slots : SynthesisSlots
        Held while a preview is synthesized, like any take.
    """

    def __init__(
        self,
        config: ServerConfig,
        store: Store,
        synthesizer: Synthesizer,
        slots: SynthesisSlots,
    ) -> None:
        self._config = config
        self._store = store
        self._synthesizer = synthesizer
        self._slots = slots
        self._preview_locks: dict[str, threading.Lock] = {}
        self._voice_edit_locks: dict[str, threading.Lock] = {}
        self._premade = {voice.voice_id: voice for voice in _premade_voices()}
        self._all_model_ids = tuple(model.model_id for model in catalog.MODELS)

    def _stored_voice(self, row: dict[str, Any]) -> VoiceRecord:
        from xiwidgets.server.cloning import VoiceProfile

        profile = VoiceProfile.from_dict(row["profile"])
        return VoiceRecord(
            voice_id=row["voice_id"],
            name=row["name"],
            category=row["category"],
            description=row["description"],
            labels=row["labels"],
            spec=profile.voice_spec(),
            created_at_unix=row["created_at_unix"],
            samples=row["samples"],
            model_ids=self._all_model_ids,
        )

    def voices(self) -> list[VoiceRecord]:
        """Premade voices (catalog order) followed by stored voices (oldest first)."""
        return [*self._premade.values(), *map(self._stored_voice, self._store.list_voices())]

    def voice(self, voice_id: str) -> VoiceRecord:
        """Look a voice up by id.

        Raises
        ------
        VoiceNotFoundError
            For an unknown id.
        """
        if voice_id in self._premade:
            return self._premade[voice_id]
        row = self._store.get_voice(voice_id)
        if row is None:
            unavailable = catalog.unavailable_voice_message(voice_id)
            if unavailable is not None:
                raise VoiceUnavailableError(unavailable)
            raise VoiceNotFoundError(voice_id)
        voice = self._stored_voice(row)
        if voice.spec.engine == "kokoro":  # a designed voice: a blend of Kokoro voices
            problem = check_assets().problem
            if problem is not None:
                raise VoiceUnavailableError(
                    f"The voice {voice.name!r} (voice_id {voice_id!r}) is made of Kokoro "
                    f"voices, which are not available. {problem}"
                )
        return voice

    def voice_settings(self, voice_id: str) -> dict[str, Any]:
        """The voice's stored settings over its defaults."""
        return self.settings_of(self.voice(voice_id))

    def settings_of(self, voice: VoiceRecord) -> dict[str, Any]:
        """The stored settings of a voice already looked up, over its defaults."""
        stored = self._store.get_voice_settings(voice.voice_id) or {}
        return {**voice.default_settings, **stored}

    def edit_voice_settings(self, voice_id: str, given: dict[str, Any]) -> None:
        """Store new settings for a voice (fields not given keep their value)."""
        current = self.voice_settings(voice_id)
        self._store.set_voice_settings(voice_id, {**current, **given})

    def add_voice(
        self,
        name: str,
        files: list[SampleUpload],
        description: str | None,
        labels: dict[str, str],
    ) -> str:
        """Create a cloned voice from uploaded samples and return its id; all or nothing.

        Every sample is analysed and written before the voice and its sample rows are
        committed together (with the voice limit checked in the same transaction).

        Raises
        ------
        InvalidSampleError
            When a sample is not decodable audio.
        VoiceLimitReachedError
            When the server holds ``max_cloned_voices`` already.
        """
        limit = self._config.max_cloned_voices
        # Checked here only to spare a full server the analysis; the store's insert decides.
        if self._store.count_voices() >= limit:
            raise VoiceLimitReachedError(limit)
        voice_id = new_id()
        profile, stored = self._measure_and_write(voice_id, [], files)
        try:
            self._store.add_voice(
                voice_id, name, description, labels, profile, samples=stored, voice_limit=limit
            )
        except VoiceLimitError:
            raise VoiceLimitReachedError(limit) from None
        return voice_id

    def edit_voice(
        self,
        voice_id: str,
        name: str,
        files: list[SampleUpload],
        description: str | None,
        labels: dict[str, str] | None,
    ) -> None:
        """Rename / relabel a stored voice; new samples are added and the profile recomputed.

        All or nothing: the new samples are analysed with the voice's others and written, then
        committed with the new name, labels and profile in one transaction.

        Raises
        ------
        VoiceNotFoundError
            For an unknown voice.
        VoiceNotEditableError
            For a premade voice.
        InvalidSampleError
            For an unreadable sample.
        SampleLimitReachedError
            For samples that would pass ``max_samples_per_voice``.
        """
        voice = self.voice(voice_id)
        if voice.is_premade:
            raise VoiceNotEditableError(voice.name)
        if not files:
            try:
                self._store.update_voice(voice_id, name, description, labels)
            except KeyError:
                raise VoiceNotFoundError(voice_id) from None
            return
        limit = self._config.max_samples_per_voice
        # One edit at a time per voice, so each profile is measured on every sample it keeps.
        with self._voice_edit_locks.setdefault(voice_id, threading.Lock()):
            voice = self.voice(voice_id)
            if len(voice.samples) + len(files) > limit:
                raise SampleLimitReachedError(voice.name, len(voice.samples), len(files), limit)
            kept = [(s["file_name"], self._store.sample_path(s)) for s in voice.samples]
            profile, stored = self._measure_and_write(voice_id, kept, files)
            try:
                self._store.update_voice(
                    voice_id, name, description, labels, profile,
                    new_samples=stored, sample_limit=limit,
                )
            except KeyError:
                raise VoiceNotFoundError(voice_id) from None
            except SampleLimitError as exc:
                raise SampleLimitReachedError(voice.name, exc.held, len(files), limit) from None
            self._store.drop_previews(voice_id)

    def _measure_and_write(
        self, voice_id: str, kept: list[tuple[str, Any]], files: list[SampleUpload]
    ) -> tuple[dict[str, Any], list[StoredSample]]:
        """Profile the voice on its kept samples and the uploads, then write the uploads.

        Returns the profile (as stored) and the written samples, not yet committed.
        """
        profile = _analyse([*kept, *((upload.file_name, upload.file) for upload in files)])
        durations = profile.sample_durations[len(kept) :]
        return profile.to_dict(), self._write_samples(voice_id, files, durations)

    def _write_samples(
        self, voice_id: str, files: list[SampleUpload], durations: list[float | None]
    ) -> list[StoredSample]:
        """Write every upload's file, or none: a failure removes those already written."""
        stored: list[StoredSample] = []
        try:
            for upload, duration in zip(files, durations, strict=True):
                stored.append(
                    self._store.write_sample(
                        voice_id, upload.file_name, upload.mime_type, upload.file, duration
                    )
                )
        except BaseException:
            self._store.discard_samples(stored)
            raise
        return stored

    def delete_voice(self, voice_id: str) -> None:
        """Delete a stored voice.

        Raises
        ------
        VoiceNotFoundError
            For an unknown voice.
        VoiceNotDeletableError
            For a premade voice.
        """
        voice = self.voice(voice_id)
        if voice.is_premade:
            raise VoiceNotDeletableError(voice.name)
        self._store.delete_voice(voice_id)

    def preview(self, voice_id: str) -> Path:
        """Path of the voice's preview MP3, synthesized on first use and cached.

        Raises
        ------
        VoiceNotFoundError
            For an unknown voice.
        """
        voice = self.voice(voice_id)
        path = self._store.preview_path(voice_id, voice.preview_tag)
        if path.exists():
            return path
        lock = self._preview_locks.setdefault(voice_id, threading.Lock())
        with lock:
            if not path.exists():
                audio = self._speak_preview(voice)
                self._store.drop_previews(voice_id)
                write_atomically(path, audio)
        return path

    def _speak_preview(self, voice: VoiceRecord) -> bytes:
        from xiwidgets.server.audio import make_encoder
        from xiwidgets.server.engines import SynthesisSettings

        text = voice.preview_text or _preview_text(voice)
        fmt = OutputFormat.parse(HISTORY_OUTPUT_FORMAT, streaming=False)
        audio = bytearray()
        encoder = None
        with self._slots:
            for chunk in self._synthesizer.synthesize(text, voice.spec, SynthesisSettings(seed=0)):
                encoder = encoder or make_encoder(fmt, chunk.sample_rate)
                audio += encoder.encode(chunk.pcm)
        if encoder is not None:
            audio += encoder.finish()
        return bytes(audio)


def _premade_voices() -> list[VoiceRecord]:
    return [
        VoiceRecord(
            voice_id=voice.voice_id,
            name=voice.name,
            category="premade",
            description=voice.description,
            labels=dict(voice.labels),
            spec=voice.spec,
            created_at_unix=None,
            preview_text=voice.preview_text,
            default_settings={name: getattr(voice.settings, name) for name in DEFAULTS},
            model_ids=tuple(voice.high_quality_base_model_ids),
        )
        for voice in catalog.premade_voices()
    ]


def _analyse(files: list[tuple[str, Any]]) -> VoiceProfile:
    from xiwidgets.server.cloning import SampleError, analyse_samples

    try:
        return analyse_samples(files)
    except SampleError as exc:
        raise InvalidSampleError(str(exc)) from None


def _preview_text(voice: VoiceRecord) -> str:
    """What an added voice says in its preview: a premade preview line of its language."""
    for premade in catalog.PREMADE_VOICES:
        if premade.spec.language == voice.spec.language and premade.engine.multilingual:
            return premade.preview_text.replace(premade.name, voice.name)
    return f"Hello, this is {voice.name}, a voice made from your recordings."
