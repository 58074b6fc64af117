"""SpeechService: the server's logic between the HTTP routes and the engines, audio and store.

It resolves voices (premade from the catalog, cloned from the store), validates a take
(voice, model, text, format, settings, quota), runs the synthesizer in a worker thread under a
semaphore, encodes audio chunk by chunk and settles the take (bills it and commits its history
item) only once the client has been handed every byte but the last ones and is still there.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from xiwidgets.formats import DEFAULT_OUTPUT_FORMAT, HISTORY_OUTPUT_FORMAT, OutputFormat
from xiwidgets.server import catalog
from xiwidgets.server.config import ServerConfig
from xiwidgets.server.errors import APIError, UnprocessableParameterError, voice_not_found
from xiwidgets.server.store import (
    HistoryRecord,
    QuotaExceededError,
    SampleLimitError,
    Store,
    StoredSample,
    Usage,
    VoiceLimitError,
    new_id,
)
from xiwidgets.server.takes import (
    HISTORY_CONTENT_TYPE,
    AlignmentBuilder,
    SharedEncoder,
    TakeAudio,
    TakeCancelledError,
    TakePiece,
    TakePlan,
)
from xiwidgets.server.text import text_problem

logger = logging.getLogger("xiwidgets.server")

if TYPE_CHECKING:
    from xiwidgets.server.cloning import VoiceProfile

# Audio of the first chunk encoded and sent before the rest of that chunk (see ``produce``).
FIRST_PIECE_SECONDS = 0.25

DEFAULT_MODEL_ID = "eleven_multilingual_v2"

DEFAULT_SETTINGS = {
    "stability": 0.5,
    "similarity_boost": 0.75,
    "style": 0.0,
    "use_speaker_boost": True,
    "speed": 1.0,
}



@dataclass
class VoiceRecord:
    """A voice as the service knows it: API fields plus how to synthesize it."""

    voice_id: str
    name: str
    category: str
    description: str | None
    labels: dict[str, str]
    spec: Any  # engines.VoiceSpec
    created_at_unix: int | None
    samples: list[dict[str, Any]] = field(default_factory=list)
    preview_text: str | None = None
    default_settings: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
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


class SynthesisSlots:
    """At most ``limit`` syntheses run at once; the others wait (queue, not thrash).

    Also counts them, so a benchmark or test can show the limit held: ``running`` now,
    ``peak`` since the last :meth:`reset_peak`, ``started`` in all.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = threading.Semaphore(limit)
        self._lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.started = 0

    def __enter__(self) -> SynthesisSlots:
        self._slots.acquire()
        with self._lock:
            self.running += 1
            self.started += 1
            self.peak = max(self.peak, self.running)
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self.running -= 1
        self._slots.release()

    def reset_peak(self) -> None:
        """Start a new peak from the syntheses running now."""
        with self._lock:
            self.peak = self.running

class SpeechService:
    """Everything the routes ask of the server, independent of HTTP.

    Parameters
    ----------
    config : ServerConfig
        Limits and concurrency.
    store : Store
        Persistent state.
    """

    def __init__(self, config: ServerConfig, store: Store) -> None:
        from xiwidgets.server.engines import Synthesizer

        self.config = config
        self.store = store
        self.synthesizer = Synthesizer()
        self.synthesis_slots = SynthesisSlots(config.max_concurrent_syntheses)
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()
        self._preview_locks: dict[str, threading.Lock] = {}
        self._voice_edit_locks: dict[str, threading.Lock] = {}
        self._websocket_sessions = 0
        self._premade = {voice.voice_id: voice for voice in self._premade_voices()}
        self._models = {model.model_id: model for model in catalog.MODELS}
        self._refund_abandoned_takes()

    def _refund_abandoned_takes(self) -> None:
        # Every take reserves through this service, and none is in flight before it exists:
        # a reservation still held now belongs to a run that was killed mid-take.
        count, characters = self.store.refund_abandoned_reservations()
        if count:
            logger.warning(
                "refunded %d take(s) a previous run left unfinished (%d characters)",
                count,
                characters,
            )

    def warm_up(self) -> None:
        """Load the engines so the first request pays no model load."""
        self.synthesizer.warm_up()

    # -- voices ---------------------------------------------------------------------------

    def _premade_voices(self) -> list[VoiceRecord]:
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
                default_settings=_settings_dict(voice.settings),
                model_ids=tuple(voice.high_quality_base_model_ids),
            )
            for voice in catalog.premade_voices()
        ]

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
            model_ids=tuple(self._models),
        )

    def voices(self) -> list[VoiceRecord]:
        """Premade voices (catalog order) followed by stored voices (oldest first)."""
        return [*self._premade.values(), *map(self._stored_voice, self.store.list_voices())]

    def voice(self, voice_id: str) -> VoiceRecord:
        """Look a voice up by id.

        Raises
        ------
        APIError
            404 ``voice_not_found``.
        """
        if voice_id in self._premade:
            return self._premade[voice_id]
        row = self.store.get_voice(voice_id)
        if row is None:
            unavailable = catalog.unavailable_voice_message(voice_id)
            if unavailable is not None:
                raise APIError(404, "voice_not_found", unavailable)
            raise voice_not_found(voice_id)
        return self._stored_voice(row)

    def voice_settings(self, voice_id: str) -> dict[str, Any]:
        """The voice's stored settings over the defaults."""
        return self._settings_of(self.voice(voice_id))

    def _settings_of(self, voice: VoiceRecord) -> dict[str, Any]:
        stored = self.store.get_voice_settings(voice.voice_id) or {}
        return {**voice.default_settings, **stored}

    def edit_voice_settings(self, voice_id: str, given: dict[str, Any]) -> None:
        """Store new settings for a voice (fields not given keep their value)."""
        current = self.voice_settings(voice_id)
        self.store.set_voice_settings(voice_id, {**current, **given})

    def voice_json(self, voice: VoiceRecord, base_url: str) -> dict[str, Any]:
        """The API's ``Voice`` object."""
        return {
            "voice_id": voice.voice_id,
            "name": voice.name,
            "samples": [
                {
                    "sample_id": sample["sample_id"],
                    "file_name": sample["file_name"],
                    "mime_type": sample["mime_type"],
                    "size_bytes": sample["size_bytes"],
                    "hash": sample["hash"],
                    "duration_secs": sample["duration_secs"],
                }
                for sample in voice.samples
            ]
            or None,
            "category": voice.category,
            "fine_tuning": None,
            "labels": voice.labels,
            "description": voice.description,
            "preview_url": f"{base_url.rstrip('/')}/v1/voices/{voice.voice_id}/preview",
            "available_for_tiers": [],
            "settings": self._settings_of(voice),
            "sharing": None,
            "high_quality_base_model_ids": list(voice.model_ids),
            "verified_languages": [
                {
                    "language": voice.spec.language,
                    "model_id": DEFAULT_MODEL_ID,
                    "accent": voice.labels.get("accent"),
                }
            ],
            "safety_control": None,
            "voice_verification": {
                "requires_verification": False,
                "is_verified": False,
                "verification_failures": [],
                "verification_attempts_count": 0,
            },
            "permission_on_resource": "admin" if not voice.is_premade else None,
            "is_owner": not voice.is_premade,
            "is_legacy": False,
            "is_mixed": False,
            "created_at_unix": voice.created_at_unix,
        }

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
        APIError
            400 when a sample is not decodable audio or the voice limit is reached.
        """
        # Checked here only to spare a full server the analysis; the store's insert decides.
        if self.store.count_voices() >= self.config.max_cloned_voices:
            raise self._voice_limit_error()
        profile = self._analyse([(upload.file_name, upload.file) for upload in files])
        voice_id = new_id()
        stored = self._write_samples(voice_id, files, profile.sample_durations)
        try:
            self.store.add_voice(
                voice_id,
                name,
                description,
                labels,
                profile.to_dict(),
                samples=stored,
                voice_limit=self.config.max_cloned_voices,
            )
        except VoiceLimitError:
            raise self._voice_limit_error() from None
        return voice_id

    def _voice_limit_error(self) -> APIError:
        return APIError(
            400,
            "voice_limit_reached",
            f"This server holds at most {self.config.max_cloned_voices} added voices; "
            "delete one first.",
        )

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
        APIError
            404 for an unknown voice; 400 for a premade voice, an unreadable sample or samples
            that would pass ``max_samples_per_voice``.
        """
        voice = self.voice(voice_id)
        if voice.is_premade:
            raise APIError(
                400,
                "voice_not_editable",
                f"{voice.name!r} is a premade voice and cannot be edited; add a voice instead.",
            )
        if not files:
            try:
                self.store.update_voice(voice_id, name, description, labels)
            except KeyError:
                raise voice_not_found(voice_id) from None
            return
        # One edit at a time per voice, so each profile is measured on every sample it keeps.
        with self._voice_edit_locks.setdefault(voice_id, threading.Lock()):
            voice = self.voice(voice_id)
            self._check_room_for_samples(voice, len(files))
            sources = [(s["file_name"], self.store.sample_path(s)) for s in voice.samples]
            sources += [(upload.file_name, upload.file) for upload in files]
            profile = self._analyse(sources)
            durations = profile.sample_durations[len(voice.samples) :]
            stored = self._write_samples(voice_id, files, durations)
            try:
                self.store.update_voice(
                    voice_id,
                    name,
                    description,
                    labels,
                    profile.to_dict(),
                    new_samples=stored,
                    sample_limit=self.config.max_samples_per_voice,
                )
            except KeyError:
                raise voice_not_found(voice_id) from None
            except SampleLimitError as exc:
                raise self._sample_limit_error(voice, exc.held, len(files)) from None
            self.store.drop_previews(voice_id)

    def _check_room_for_samples(self, voice: VoiceRecord, adding: int) -> None:
        if len(voice.samples) + adding > self.config.max_samples_per_voice:
            raise self._sample_limit_error(voice, len(voice.samples), adding)

    def _sample_limit_error(self, voice: VoiceRecord, held: int, adding: int) -> APIError:
        limit = self.config.max_samples_per_voice
        return APIError(
            400,
            "too_many_samples",
            f"Voice {voice.name!r} has {held} of at most {limit} samples; adding {adding} would "
            f"pass the limit, so nothing was changed. Add at most {max(0, limit - held)}.",
        )

    def _analyse(self, files: list[tuple[str, Any]]) -> VoiceProfile:
        from xiwidgets.server.cloning import SampleError, analyse_samples

        try:
            return analyse_samples(files)
        except SampleError as exc:
            raise APIError(400, "invalid_audio_sample", str(exc)) from None

    def _write_samples(
        self, voice_id: str, files: list[SampleUpload], durations: list[float | None]
    ) -> list[StoredSample]:
        """Write every upload's file, or none: a failure removes those already written."""
        stored: list[StoredSample] = []
        try:
            for upload, duration in zip(files, durations, strict=True):
                stored.append(
                    self.store.write_sample(
                        voice_id, upload.file_name, upload.mime_type, upload.file, duration
                    )
                )
        except BaseException:
            self.store.discard_samples(stored)
            raise
        return stored

    def delete_voice(self, voice_id: str) -> None:
        """Delete a stored voice.

        Raises
        ------
        APIError
            404 for an unknown voice, 400 for a premade voice.
        """
        voice = self.voice(voice_id)
        if voice.is_premade:
            raise APIError(
                400,
                "voice_not_deletable",
                f"{voice.name!r} is a premade voice and cannot be deleted.",
            )
        self.store.delete_voice(voice_id)

    def preview(self, voice_id: str) -> Path:
        """Path of the voice's preview MP3, synthesized on first use and cached."""
        voice = self.voice(voice_id)
        path = self.store.preview_path(voice_id, voice.preview_tag)
        if path.exists():
            return path
        lock = self._preview_locks.setdefault(voice_id, threading.Lock())
        with lock:
            if not path.exists():
                from xiwidgets.server.audio import make_encoder
                from xiwidgets.server.engines import SynthesisSettings
                from xiwidgets.server.store import write_atomically

                text = voice.preview_text or _preview_text(voice)
                fmt = OutputFormat.parse(HISTORY_OUTPUT_FORMAT, streaming=False)
                audio = bytearray()
                encoder = None
                with self.synthesis_slots:
                    for chunk in self.synthesizer.synthesize(
                        text, voice.spec, SynthesisSettings(seed=0)
                    ):
                        encoder = encoder or make_encoder(fmt, chunk.sample_rate)
                        audio += encoder.encode(chunk.pcm)
                if encoder is not None:
                    audio += encoder.finish()
                self.store.drop_previews(voice_id)
                write_atomically(path, bytes(audio))
        return path

    # -- models ---------------------------------------------------------------------------

    def models(self) -> list[dict[str, Any]]:
        """The ``/v1/models`` list."""
        return [model.response() for model in self._models.values()]

    def model(self, model_id: str | None, websocket: bool = False) -> Any:
        """A text-to-speech model by id (``None`` → the default model).

        Raises
        ------
        APIError
            400 ``model_not_found`` for an unknown or non-TTS model.
        """
        model = self._models.get(model_id or DEFAULT_MODEL_ID)
        if model is None:
            raise APIError(
                400,
                "model_not_found",
                f"A text-to-speech model with model_id {model_id!r} does not exist; "
                "GET /v1/models lists the available ones.",
            )
        if websocket and not model.supports_websocket:
            raise APIError(
                400,
                "unsupported_model",
                f"Model {model.model_id} cannot be used over the stream-input websocket; "
                "use eleven_multilingual_v2 or eleven_flash_v2_5.",
            )
        return model

    # -- takes ----------------------------------------------------------------------------

    def concurrency_headers(self) -> dict[str, str]:
        """``current-concurrent-requests`` / ``maximum-concurrent-requests``."""
        return {
            "current-concurrent-requests": str(self._in_flight),
            "maximum-concurrent-requests": str(self.config.max_concurrent_syntheses),
        }

    def plan_take(
        self,
        *,
        request_id: str,
        voice_id: str,
        text: str,
        model_id: str | None,
        voice_settings: dict[str, Any] | None,
        output_format: str | None,
        seed: int | None,
        streaming: bool,
        enable_logging: bool = True,
        websocket: bool = False,
    ) -> TakePlan:
        """Validate a take and reserve its characters; nothing else is stored yet.

        Raises
        ------
        APIError
            404 unknown voice; 400 unknown model, ``invalid_text`` (not valid Unicode, or
            nothing to say), text over the model's limit; 401 ``quota_exceeded``.
        UnprocessableParameterError
            An ``output_format`` outside the supported set (422 like the hosted enum check).
        """
        from xiwidgets.server.engines import SynthesisSettings

        voice = self.voice(voice_id)
        model = self.model(model_id, websocket=websocket)
        fmt = self.parse_output_format(output_format, streaming, ["query", "output_format"])
        problem = text_problem(text)
        if problem is not None:
            raise APIError(400, "invalid_text", problem)
        limit = model.max_characters
        if len(text) > limit:
            raise APIError(
                400,
                "max_character_limit_exceeded",
                f"The text has {len(text):,} characters but model {model.model_id} accepts at "
                f"most {limit:,} per request; split it into several requests.",
            )
        settings = {**self.voice_settings(voice_id), **(voice_settings or {})}
        synthesis_settings = model.effective_settings(SynthesisSettings(**settings, seed=seed))
        multiplier = model.character_cost_multiplier
        cost = max(1, round(len(text) * multiplier))
        try:
            reservation = self.store.reserve_characters(cost, request_id)
        except QuotaExceededError as exc:
            raise APIError(
                401,
                "quota_exceeded",
                f"This request needs {exc.needed:,} characters but only {exc.left:,} are left "
                "this period; shorten the text or raise the server's --character-limit.",
            ) from None
        self._change_in_flight(+1)
        return TakePlan(
            request_id=request_id,
            voice=voice,
            spec=model.voice_spec_for(voice.spec),
            model_id=model.model_id,
            text=text,
            output_format=fmt,
            settings=settings,
            synthesis_settings=synthesis_settings,
            reservation=reservation,
            history_item_id=new_id() if enable_logging else None,
        )

    @staticmethod
    def parse_output_format(name: str | None, streaming: bool, location: list) -> Any:
        """Parse an ``output_format`` or raise a 422 naming the accepted values."""
        try:
            return OutputFormat.parse(name or DEFAULT_OUTPUT_FORMAT, streaming=streaming)
        except ValueError as exc:
            raise UnprocessableParameterError(location, str(exc)) from None

    def produce(
        self,
        plan: TakePlan,
        emit: Callable[[TakePiece], None],
        cancelled: threading.Event,
        shared: SharedEncoder | None = None,
        may_settle: Callable[[], bool] = lambda: True,
    ) -> None:
        """Synthesize and encode a take, calling ``emit`` for every piece (worker thread).

        Once every piece but the final one has been emitted, ``may_settle`` is asked (it
        blocks until the consumer has handed those pieces to the client, and answers whether
        the client is still there). Only then is the take settled — billed and its history
        item committed — and the final piece emitted, so a client that has received the whole
        take can already find it in the history. On failure, cancellation or a ``False``
        answer the characters are refunded and nothing is stored. With a ``shared`` encoder
        the final flush is left to its owner.
        """
        take_audio = TakeAudio(plan, shared)
        alignment = AlignmentBuilder()
        offset = 0.0
        counted = True
        try:
            with self.synthesis_slots:
                for chunk in self.synthesizer.synthesize(
                    plan.text, plan.spec, plan.synthesis_settings
                ):
                    if cancelled.is_set():
                        raise TakeCancelledError
                    for pcm, owner in _split_for_sending(chunk, first=offset == 0.0):
                        encoded = take_audio.encode(pcm, chunk.sample_rate)
                        emit(TakePiece(audio=encoded, chunk=owner, offset_s=offset))
                    alignment.add(chunk, offset)
                    offset += chunk.duration
            tail = take_audio.finish()
            if cancelled.is_set() or not may_settle():
                raise TakeCancelledError
            self._settle(plan, bytes(take_audio.history_audio), alignment.as_dict())
            # Count the take out before its last bytes leave: a client that sends its next
            # request as soon as it has them must not see this one still in flight.
            self._change_in_flight(-1)
            counted = False
            emit(TakePiece(audio=tail, chunk=None, offset_s=offset, final=True))
        except BaseException:
            self.store.refund_characters(plan.reservation)
            raise
        finally:
            if counted:
                self._change_in_flight(-1)

    def _change_in_flight(self, delta: int) -> None:
        with self._in_flight_lock:
            self._in_flight += delta

    def _settle(self, plan: TakePlan, audio: bytes, alignment: dict) -> None:
        """Bill the take and, when it is logged, store it: one transaction."""
        usage = Usage(plan.voice.voice_id, plan.model_id, plan.character_cost)
        if plan.history_item_id is None:
            self.store.settle_take(plan.reservation, usage)
            return
        item = HistoryRecord(
            history_item_id=plan.history_item_id,
            request_id=plan.request_id,
            voice_id=plan.voice.voice_id,
            voice_name=plan.voice.name,
            voice_category=plan.voice.category,
            model_id=plan.model_id,
            text=plan.text,
            date_unix=int(time.time()),
            character_count_change_from=plan.reservation.count_from,
            character_count_change_to=plan.reservation.count_to,
            content_type=HISTORY_CONTENT_TYPE,
            output_format=plan.output_format.name,
            settings=plan.settings,
            alignments={"alignment": alignment, "normalized_alignment": alignment},
        )
        self.store.settle_take(plan.reservation, usage, item, audio, "mp3")

    def open_websocket_session(self) -> bool:
        """Count a new stream-input session; ``False`` when the limit is reached."""
        with self._in_flight_lock:
            if self._websocket_sessions >= self.config.max_websocket_sessions:
                return False
            self._websocket_sessions += 1
            return True

    def close_websocket_session(self) -> None:
        """Forget a finished stream-input session."""
        with self._in_flight_lock:
            self._websocket_sessions -= 1

    # -- history --------------------------------------------------------------------------

    def history_item_json(self, item: HistoryRecord) -> dict[str, Any]:
        """The API's ``SpeechHistoryItemResponseModel``."""
        return {
            "history_item_id": item.history_item_id,
            "request_id": item.request_id,
            "voice_id": item.voice_id,
            "model_id": item.model_id,
            "voice_name": item.voice_name,
            "voice_category": item.voice_category,
            "text": item.text,
            "date_unix": item.date_unix,
            "character_count_change_from": item.character_count_change_from,
            "character_count_change_to": item.character_count_change_to,
            "content_type": item.content_type,
            "state": "created",
            "settings": item.settings,
            "feedback": None,
            "share_link_id": None,
            "source": "TTS",
            "alignments": item.alignments,
            "dialogue": None,
            "output_format": item.output_format,
        }


def _settings_dict(settings: Any) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in DEFAULT_SETTINGS}


def _preview_text(voice: VoiceRecord) -> str:
    """What an added voice says in its preview: a premade preview line of its language."""
    for premade in catalog.PREMADE_VOICES:
        if premade.spec.language == voice.spec.language and premade.engine.multilingual:
            return premade.preview_text.replace(premade.name, voice.name)
    return f"Hello, this is {voice.name}, a voice made from your recordings."


def _split_for_sending(chunk: Any, first: bool) -> list[tuple[Any, Any]]:
    """``(pcm, owning chunk or None)`` pieces of one engine chunk, in order.

    The first chunk of a take leaves in two pieces: a short head is encoded and sent at once,
    so the time to the first audio byte does not include encoding a whole clause.
    """
    head = int(FIRST_PIECE_SECONDS * chunk.sample_rate)
    if not first or head >= len(chunk.pcm):
        return [(chunk.pcm, chunk)]
    return [(chunk.pcm[:head], chunk), (chunk.pcm[head:], None)]
