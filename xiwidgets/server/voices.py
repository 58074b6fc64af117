"""The voice registry: premade voices from the catalog, added voices from the store, their
settings, cloning from uploaded samples, blends of Kokoro voices, and the cached previews.

Independent of HTTP: failures are :mod:`~xiwidgets.server.domain_errors`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from xiwidgets.formats import HISTORY_OUTPUT_FORMAT, OutputFormat, codec_of_extension
from xiwidgets.server import catalog
from xiwidgets.server.concurrency import SynthesisSlots
from xiwidgets.server.config import ServerConfig
from xiwidgets.server.domain_errors import (
    InvalidBlendError,
    InvalidSampleError,
    SampleLimitReachedError,
    SampleNotFoundError,
    VoiceLimitReachedError,
    VoiceNotDeletableError,
    VoiceNotEditableError,
    VoiceNotFoundError,
    VoiceUnavailableError,
)
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
    from xiwidgets.server.workers import SpeechMaker


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
    # A weighted blend of Kokoro voices (the API's ``is_mixed``).
    is_mixed: bool = False

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
    synthesizer : Synthesizer or WorkerPool
        Speaks the previews.
    slots : SynthesisSlots
        Held while a preview is synthesized, like any take.
    """

    def __init__(
        self,
        config: ServerConfig,
        store: Store,
        synthesizer: SpeechMaker,
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
        from xiwidgets.server.blends import BlendProfile, is_blend_profile
        from xiwidgets.server.cloning import VoiceProfile

        mixed = is_blend_profile(row["profile"])
        profile = (BlendProfile if mixed else VoiceProfile).from_dict(row["profile"])
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
            is_mixed=mixed,
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
        unavailable = catalog.engine_voice_unavailable(voice.spec)
        if unavailable is not None:
            raise VoiceUnavailableError(
                f"The voice {voice.name!r} (voice_id {voice_id!r}) speaks with Kokoro voices, "
                f"which are not available. {unavailable}"
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

        The voice speaks as the engine voice nearest to the samples (the nearest English
        Kokoro voice when the Kokoro assets are installed; see ``cloning``) at the samples'
        pitch and rate; without a ``description`` the voice is described by that base.
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
        if description is None:
            description = clone_description(profile.voice_spec())
        try:
            self._store.add_voice(
                voice_id, name, description, labels, profile.to_dict(), samples=stored,
                voice_limit=limit,
            )
        except VoiceLimitError:
            raise VoiceLimitReachedError(limit) from None
        return voice_id

    def add_blend(
        self,
        name: str,
        components: Sequence[tuple[str, float]],
        description: str | None = None,
        labels: dict[str, str] | None = None,
        category: str = "generated",
    ) -> str:
        """Store a voice that is a weighted blend of premade Kokoro voices; return its id.

        Parameters
        ----------
        name : str
            The new voice's name.
        components : sequence of (str, float)
            Premade Kokoro voice ids and weights (any positive scale; normalized to sum to 1).
        description : str, optional
            Defaults to a sentence naming the voices and their shares.
        labels : dict, optional
            Over the labels the blend's voices share and a ``blend`` label
            (``"Bella 50% + Adam 50%"``).
        category : str
            ``"generated"`` (voice design may store its voices as blends too).

        Raises
        ------
        InvalidBlendError
            No voice, a voice id that is not a premade Kokoro voice, a repeated voice, or
            weights that are negative, not finite, or do not sum to a positive number.
        VoiceUnavailableError
            A Kokoro voice whose assets are not installed (the message says how to).
        VoiceLimitReachedError
            When the server holds ``max_cloned_voices`` already.
        """
        from xiwidgets.server.blends import BlendProfile, blend_labels, blend_summary
        from xiwidgets.server.engines.kokoro_engine import BlendError, normalize_blend

        if not components:
            raise InvalidBlendError("A voice blend needs at least one voice.", ["body", "voices"])
        voices = [self._blend_component(index, voice_id) for index, (voice_id, _) in
                  enumerate(components)]
        names = [voice.spec.engine_voice for voice in voices]
        try:
            weights = normalize_blend(
                [(names[i], weight) for i, (_, weight) in enumerate(components)]
            )
        except BlendError as error:
            raise InvalidBlendError(f"{str(error).capitalize()}.", ["body", "voices"]) from None
        by_name = {voice.spec.engine_voice: voice for voice in voices}
        heaviest = by_name[max(weights, key=lambda item: item[1])[0]]
        profile = BlendProfile.of(weights, heaviest.spec.language)
        parts = [(by_name[n].name, w, by_name[n].labels) for n, w in profile.weights]
        if description is None:
            description = f"A blend of Kokoro voices: {blend_summary(parts)}."
        limit = self._config.max_cloned_voices
        voice_id = new_id()
        try:
            self._store.add_voice(
                voice_id, name, description, {**blend_labels(parts), **(labels or {})},
                profile.to_dict(), voice_limit=limit, category=category,
            )
        except VoiceLimitError:
            raise VoiceLimitReachedError(limit) from None
        return voice_id

    def _blend_component(self, index: int, voice_id: str) -> VoiceRecord:
        """The premade Kokoro voice ``voice_id`` (the ``index``-th of a blend)."""
        location: list[str | int] = ["body", "voices", index, "voice_id"]
        voice = self._premade.get(voice_id)
        if voice is None:
            unavailable = catalog.unavailable_voice_message(voice_id)
            if unavailable is not None:
                raise VoiceUnavailableError(unavailable)
            raise InvalidBlendError(
                f"{voice_id!r} is not a premade voice; a blend mixes premade Kokoro voices "
                "(GET /v1/voices lists them).",
                location,
            )
        if voice.spec.engine != catalog.KOKORO_ENGINE:
            raise InvalidBlendError(
                f"{voice.name!r} is not a Kokoro voice; only Kokoro voices can be blended.",
                location,
            )
        return voice

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
            if description is None:
                description = clone_description(profile.voice_spec())
            try:
                self._store.update_voice(
                    voice_id, name, description, labels, profile.to_dict(),
                    new_samples=stored, sample_limit=limit,
                )
            except KeyError:
                raise VoiceNotFoundError(voice_id) from None
            except SampleLimitError as exc:
                raise SampleLimitReachedError(voice.name, exc.held, len(files), limit) from None
            self._store.drop_previews(voice_id)

    def _measure_and_write(
        self, voice_id: str, kept: list[tuple[str, Any]], files: list[SampleUpload]
    ) -> tuple[VoiceProfile, list[StoredSample]]:
        """Profile the voice on its kept samples and the uploads, then write the uploads.

        Returns the profile and the written samples, not yet committed.
        """
        profile = _analyse([*kept, *((upload.file_name, upload.file) for upload in files)])
        durations = profile.sample_durations[len(kept) :]
        return profile, self._write_samples(voice_id, files, durations)

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
        premade = catalog.get_premade_voice(voice_id)
        if premade is not None:
            raise VoiceNotDeletableError(premade.name)
        # Straight to the store: a blend whose Kokoro voices are gone can still be deleted.
        if not self._store.delete_voice(voice_id):
            raise VoiceNotFoundError(voice_id)

    def sample(self, voice_id: str, sample_id: str) -> tuple[Path, str]:
        """The file of one of a voice's samples and its media type.

        The media type is the one uploaded when it names audio; otherwise (a client that
        sent none, or a non-audio type) the file's extension decides, so a sample is never
        served as a page a browser would run.

        Raises
        ------
        VoiceNotFoundError
            For an unknown voice.
        SampleNotFoundError
            When that voice has no sample with this id.
        """
        voice = self.voice(voice_id)
        sample = next((s for s in voice.samples if s["sample_id"] == sample_id), None)
        path = self._store.sample_path(sample) if sample is not None else None
        if sample is None or path is None or not path.is_file():
            raise SampleNotFoundError(voice_id, sample_id)
        return path, _sample_media_type(str(sample["mime_type"]), path)

    def delete_sample(self, voice_id: str, sample_id: str) -> None:
        """Remove one sample of a voice; a cloned voice is measured again on those left.

        With no sample left the voice keeps the pitch and rate it was measured with.

        Raises
        ------
        VoiceNotFoundError
            For an unknown voice.
        SampleNotFoundError
            When that voice has no sample with this id (also one deleted meanwhile).
        InvalidSampleError
            When a remaining sample can no longer be read; nothing is deleted.
        """
        with self._voice_edit_locks.setdefault(voice_id, threading.Lock()):
            voice = self.voice(voice_id)
            kept = [s for s in voice.samples if s["sample_id"] != sample_id]
            if len(kept) == len(voice.samples):
                raise SampleNotFoundError(voice_id, sample_id)
            profile = None
            if kept and voice.category == "cloned":
                sources = [(s["file_name"], self._store.sample_path(s)) for s in kept]
                profile = _analyse(sources).to_dict()
            if not self._store.delete_sample(voice_id, sample_id, profile):
                raise SampleNotFoundError(voice_id, sample_id)

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


def _sample_media_type(uploaded: str, path: Path) -> str:
    if uploaded.lower().startswith("audio/") and uploaded.isascii() and ";" not in uploaded:
        return uploaded
    codec = codec_of_extension(path.suffix)
    return codec.media_type if codec is not None else "application/octet-stream"


def _analyse(files: list[tuple[str, Any]]) -> VoiceProfile:
    from xiwidgets.server.cloning import SampleError, analyse_samples

    try:
        return analyse_samples(files, kokoro=catalog.kokoro_available())
    except SampleError as exc:
        raise InvalidSampleError(str(exc)) from None


def clone_description(spec: Any) -> str:
    """What a voice made from samples is, for its description: its base voice and factors.

    Parameters
    ----------
    spec : engines.VoiceSpec
        The clone's engine voice with its pitch and rate factors.

    Returns
    -------
    str
        E.g. "Made from your samples: Sarah (Kokoro af_sarah), the nearest voice by pitch and
        speaking rate, at 1.04 × its pitch and 0.95 × its speaking rate."
    """
    base = catalog.base_voice_name(spec)
    return (
        f"Made from your samples: {base}, the nearest voice by pitch and speaking rate, at "
        f"{spec.pitch_factor:.2f} × its pitch and {spec.rate_factor:.2f} × its speaking rate."
    )


def _preview_text(voice: VoiceRecord) -> str:
    """What an added voice says in its preview: a premade preview line of its language."""
    for premade in catalog.PREMADE_VOICES:
        if premade.spec.language == voice.spec.language and premade.engine.multilingual:
            return premade.preview_text.replace(premade.name, voice.name)
    return f"Hello, this is {voice.name}, a voice made from your recordings."
