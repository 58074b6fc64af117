"""The take service: plan a take (validate, reserve its characters), produce it (synthesize and
encode in a worker thread, under the synthesis slots) and settle it (bill it and commit its
history item) only once the client has been handed every byte but the last ones and is still
there.

Independent of HTTP: failures are :mod:`~xiwidgets.server.domain_errors`. The take's data
types and audio assembly are in :mod:`xiwidgets.server.takes`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from xiwidgets.formats import DEFAULT_OUTPUT_FORMAT, OutputFormat
from xiwidgets.server.concurrency import Concurrency
from xiwidgets.server.domain_errors import (
    InvalidOutputFormatError,
    InvalidTextError,
    QuotaExceededError,
    TextTooLongError,
)
from xiwidgets.server.model_lookup import tts_model
from xiwidgets.server.store import HistoryRecord, Store, Usage, new_id
from xiwidgets.server.store import QuotaExceededError as QuotaRefusedError
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
from xiwidgets.server.voices import VoiceRegistry

if TYPE_CHECKING:
    from xiwidgets.server.workers import SpeechMaker

logger = logging.getLogger("xiwidgets.server")

# Audio of the first chunk encoded and sent before the rest of that chunk (see ``produce``).
FIRST_PIECE_SECONDS = 0.25


class TakeService:
    """Plans, produces and bills takes.

    Parameters
    ----------
    store : Store
        The quota, its reservations and the history.
    synthesizer : Synthesizer or WorkerPool
        The engines (here or in worker processes).
    concurrency : Concurrency
        Synthesis slots and the in-flight count.
    voices : VoiceRegistry
        Resolves a take's voice and its stored settings.
    """

    def __init__(
        self,
        store: Store,
        synthesizer: SpeechMaker,
        concurrency: Concurrency,
        voices: VoiceRegistry,
    ) -> None:
        self._store = store
        self._synthesizer = synthesizer
        self._concurrency = concurrency
        self._voices = voices
        self._refund_abandoned_takes()

    def _refund_abandoned_takes(self) -> None:
        # Every take reserves through this service, and none is in flight before it exists:
        # a reservation still held now belongs to a run that was killed mid-take.
        count, characters = self._store.refund_abandoned_reservations()
        if count:
            logger.warning(
                "refunded %d take(s) a previous run left unfinished (%d characters)",
                count,
                characters,
            )

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
        VoiceNotFoundError, ModelNotFoundError, UnsupportedModelError, InvalidOutputFormatError
            For a voice, model or format the server does not have.
        InvalidTextError
            Text that is not valid Unicode, or has nothing to say.
        TextTooLongError
            Text over the model's limit.
        QuotaExceededError
            When the take would pass the character quota.
        TooManyConcurrentRequestsError
            When ``max_concurrent_requests`` takes are already in flight.
        """
        # Admitted first, before anything is checked or reserved: a refused take costs nothing
        # and a burst of them cannot get past the limit.
        self._concurrency.admit()
        try:
            return self._plan_admitted(
                request_id=request_id, voice_id=voice_id, text=text, model_id=model_id,
                voice_settings=voice_settings, output_format=output_format, seed=seed,
                streaming=streaming, enable_logging=enable_logging, websocket=websocket)
        except BaseException:
            self._concurrency.change_in_flight(-1)
            raise

    def _plan_admitted(self, *, request_id: str, voice_id: str, text: str,
                       model_id: str | None, voice_settings: dict[str, Any] | None,
                       output_format: str | None, seed: int | None, streaming: bool,
                       enable_logging: bool, websocket: bool) -> TakePlan:
        from xiwidgets.server.engines import SynthesisSettings

        voice = self._voices.voice(voice_id)
        model = tts_model(model_id, websocket=websocket)
        fmt = parse_output_format(output_format, streaming)
        problem = text_problem(text)
        if problem is not None:
            raise InvalidTextError(problem)
        if len(text) > model.max_characters:
            raise TextTooLongError(len(text), model.model_id, model.max_characters)
        settings = {**self._voices.settings_of(voice), **(voice_settings or {})}
        synthesis_settings = model.effective_settings(SynthesisSettings(**settings, seed=seed))
        cost = max(1, round(len(text) * model.character_cost_multiplier))
        try:
            reservation = self._store.reserve_characters(cost, request_id)
        except QuotaRefusedError as exc:
            reset_unix = self._store.account()["next_reset_unix"]
            raise QuotaExceededError(exc.needed, exc.left, reset_unix) from None
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

    def produce(
        self,
        plan: TakePlan,
        emit: Callable[[TakePiece], object],
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
            with self._concurrency.synthesis_slots:
                for chunk in self._synthesizer.synthesize(
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
            self._concurrency.change_in_flight(-1)
            counted = False
            emit(TakePiece(audio=tail, chunk=None, offset_s=offset, final=True))
        except BaseException:
            self._store.refund_characters(plan.reservation)
            raise
        finally:
            if counted:
                self._concurrency.change_in_flight(-1)

    def _settle(self, plan: TakePlan, audio: bytes, alignment: dict[str, Any]) -> None:
        """Bill the take and, when it is logged, store it: one transaction."""
        usage = Usage(plan.voice.voice_id, plan.model_id, plan.character_cost)
        if plan.history_item_id is None:
            self._store.settle_take(plan.reservation, usage)
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
        self._store.settle_take(plan.reservation, usage, item, audio, "mp3")


def parse_output_format(name: str | None, streaming: bool) -> OutputFormat:
    """Parse an ``output_format`` (``None`` → the default).

    Raises
    ------
    InvalidOutputFormatError
        Naming the accepted values.
    """
    try:
        return OutputFormat.parse(name or DEFAULT_OUTPUT_FORMAT, streaming=streaming)
    except ValueError as exc:
        raise InvalidOutputFormatError(str(exc)) from None


def _split_for_sending(chunk: Any, first: bool) -> list[tuple[Any, Any]]:
    """``(pcm, owning chunk or None)`` pieces of one engine chunk, in order.

    The first chunk of a take leaves in two pieces: a short head is encoded and sent at once,
    so the time to the first audio byte does not include encoding a whole clause.
    """
    head = int(FIRST_PIECE_SECONDS * chunk.sample_rate)
    if not first or head >= len(chunk.pcm):
        return [(chunk.pcm, chunk)]
    return [(chunk.pcm[:head], chunk), (chunk.pcm[head:], None)]
