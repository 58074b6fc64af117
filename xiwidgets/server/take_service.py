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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from xiwidgets.formats import DEFAULT_OUTPUT_FORMAT, OutputFormat
from xiwidgets.server import dialogue
from xiwidgets.server.concurrency import Concurrency
from xiwidgets.server.domain_errors import (
    DialogueTooLongError,
    InvalidDialogueLineError,
    InvalidOutputFormatError,
    InvalidPronunciationRulesError,
    InvalidTextError,
    QuotaExceededError,
    TextTooLongError,
    TooManyDialogueVoicesError,
    UnsupportedLanguageError,
)
from xiwidgets.server.model_lookup import tts_model
from xiwidgets.server.normalization import normalize
from xiwidgets.server.read_ahead import read_ahead
from xiwidgets.server.spoken_text import SpokenText
from xiwidgets.server.store import HistoryRecord, Reservation, Store, Usage, new_id
from xiwidgets.server.store import QuotaExceededError as QuotaRefusedError
from xiwidgets.server.takes import (
    HISTORY_CONTENT_TYPE,
    AlignmentBuilder,
    SharedEncoder,
    TakeAudio,
    TakeCancelledError,
    TakeLine,
    TakePiece,
    TakePlan,
)
from xiwidgets.server.text import text_problem
from xiwidgets.server.voices import VoiceRecord, VoiceRegistry

if TYPE_CHECKING:
    from xiwidgets.server.catalog import Model
    from xiwidgets.server.engines import AudioChunk, SynthesisSettings, VoiceSpec
    from xiwidgets.server.lexicon import Lexicon
    from xiwidgets.server.workers import SpeechMaker

logger = logging.getLogger("xiwidgets.server")

# Audio of the first chunk encoded and sent before the rest of that chunk (see ``produce``).
# Chromium starts playing a MediaSource only with more than about 0.2 s of audio queued: a
# 0.25 s piece (0.18 s of MP3 after the encoder's delay) made the Studio wait for the second
# chunk, 40 ms later. Half a second costs about 4 ms more to encode before the first byte.
FIRST_PIECE_SECONDS = 0.5
# Most characters of one clause, aliases applied, an engine is given in one piece (a clause as
# sent is at most text.MAX_CHUNK_CHARS; aliases may lengthen it this far).
MAX_SAID_CLAUSE_CHARACTERS = 1000


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
        lexicon: Lexicon | None = None,
        text_normalization: str | None = None,
        language_code: str | None = None,
    ) -> TakePlan:
        """Validate a take and reserve its characters; nothing else is stored yet.

        ``lexicon`` holds the request's pronunciation rules (resolved from its locators
        beforehand, so an unknown dictionary is refused before anything is reserved).
        ``text_normalization`` is the request's ``apply_text_normalization`` (``None`` is
        ``auto``, which the model decides: see ``catalog.Model.normalizes``); the rules apply
        to the text as normalized. ``language_code`` is the language the text is read (and
        normalized) in (see ``spoken_spec``). The characters billed are those of ``text`` as
        sent.

        Raises
        ------
        VoiceNotFoundError, ModelNotFoundError, UnsupportedModelError, InvalidOutputFormatError
            For a voice, model or format the server does not have.
        InvalidTextError
            Text that is not valid Unicode, or has nothing to say.
        TextTooLongError
            Text over the model's limit.
        UnsupportedLanguageError
            For a ``language_code`` the model or the voice does not speak.
        QuotaExceededError
            When the take would pass the character quota.
        TooManyConcurrentRequestsError
            When ``max_concurrent_requests`` takes are already in flight.
        """
        # Admitted first, before anything is checked or reserved: a refused take costs nothing
        # and a burst of them cannot get past the limit.
        with self._concurrency.admitted():
            voice = self._voices.voice(voice_id)
            model = tts_model(model_id, websocket=websocket)
            fmt = parse_output_format(output_format, streaming)
            problem = text_problem(text)
            if problem is not None:
                raise InvalidTextError(problem)
            if len(text) > model.max_characters:
                raise TextTooLongError(len(text), model.model_id, model.max_characters)
            spec = spoken_spec(model, voice.spec, language_code)
            spoken = _said(model, text, spec.language, text_normalization)
            if lexicon:
                _check_said_length(spoken.spoken, lexicon, model.max_characters)
            settings, synthesis_settings = self._settings(voice, model, voice_settings, seed)
            reservation = self._reserve(_cost(model, len(text)), request_id)
            return TakePlan(
                request_id=request_id,
                voice=voice,
                spec=spec,
                model_id=model.model_id,
                text=text,
                output_format=fmt,
                settings=settings,
                synthesis_settings=synthesis_settings,
                reservation=reservation,
                history_item_id=new_id() if enable_logging else None,
                lexicon=lexicon,
                spoken=spoken,
            )

    def plan_dialogue(
        self,
        *,
        request_id: str,
        lines: Sequence[tuple[str, str]],
        model_id: str | None,
        voice_settings: dict[str, Any] | None,
        output_format: str | None,
        seed: int | None,
        streaming: bool,
        enable_logging: bool = True,
        lexicon: Lexicon | None = None,
        text_normalization: str | None = None,
        language_code: str | None = None,
    ) -> TakePlan:
        """Validate a dialogue of ``(text, voice_id)`` lines and reserve their characters.

        Like ``plan_take``, one take: each line is spoken with its voice's stored settings
        under ``voice_settings``, the seed, pronunciation rules (``lexicon``), normalization
        and ``language_code`` apply to every line (each line normalized on its own), and the
        take costs the characters of all lines together, as sent.

        Raises
        ------
        VoiceNotFoundError, ModelNotFoundError, InvalidOutputFormatError
            For a voice, model or format the server does not have.
        TooManyDialogueVoicesError
            For more distinct voices than ``dialogue.MAX_DIALOGUE_VOICES``.
        InvalidDialogueLineError
            For a line with nothing to say (naming the line).
        DialogueTooLongError
            When the lines pass the model's or the dialogue's character limit.
        UnsupportedLanguageError
            For a ``language_code`` the model or a line's voice does not speak.
        InvalidPronunciationRulesError
            When the rules would have the engines say far more than was sent.
        QuotaExceededError
            When the take would pass the character quota.
        TooManyConcurrentRequestsError
            When ``max_concurrent_requests`` takes are already in flight.
        """
        with self._concurrency.admitted():
            voice_ids = list(dict.fromkeys(voice_id for _, voice_id in lines))
            if len(voice_ids) > dialogue.MAX_DIALOGUE_VOICES:
                raise TooManyDialogueVoicesError(len(voice_ids), dialogue.MAX_DIALOGUE_VOICES)
            voices = {voice_id: self._voices.voice(voice_id) for voice_id in voice_ids}
            model = tts_model(model_id)
            fmt = parse_output_format(output_format, streaming)
            for index, (text, _) in enumerate(lines):
                problem = text_problem(text)
                if problem is not None:
                    raise InvalidDialogueLineError(index, problem)
            length = sum(len(text) for text, _ in lines)
            limit = min(model.max_characters, dialogue.MAX_DIALOGUE_CHARACTERS)
            if length > limit:
                raise DialogueTooLongError(length, limit)
            specs = {voice_id: spoken_spec(model, voice.spec, language_code)
                     for voice_id, voice in voices.items()}
            said = [_said(model, text, specs[voice_id].language, text_normalization)
                    for text, voice_id in lines]
            spoken = dialogue.dialogue_spoken(said)
            if lexicon:
                _check_said_length(spoken.spoken, lexicon, model.max_characters)
            starts = dialogue.line_starts([text for text, _ in lines])
            spoken_starts = dialogue.line_starts([line.spoken for line in said])
            take_lines = []
            for (text, voice_id), start, line_said, spoken_start in zip(
                lines, starts, said, spoken_starts, strict=True
            ):
                voice = voices[voice_id]
                settings, synthesis_settings = self._settings(voice, model, voice_settings, seed)
                take_lines.append(
                    TakeLine(
                        voice=voice,
                        spec=specs[voice_id],
                        text=text,
                        text_start=start,
                        settings=settings,
                        synthesis_settings=synthesis_settings,
                        spoken=line_said,
                        spoken_start=spoken_start,
                    )
                )
            reservation = self._reserve(_cost(model, length), request_id)
            first = take_lines[0]
            return TakePlan(
                request_id=request_id,
                voice=first.voice,
                spec=first.spec,
                model_id=model.model_id,
                text=dialogue.dialogue_text([text for text, _ in lines]),
                output_format=fmt,
                settings=dict(voice_settings or {}),
                synthesis_settings=first.synthesis_settings,
                reservation=reservation,
                history_item_id=new_id() if enable_logging else None,
                lexicon=lexicon,
                lines=tuple(take_lines),
                spoken=spoken,
            )

    def _settings(
        self, voice: VoiceRecord, model: Model, voice_settings: dict[str, Any] | None,
        seed: int | None,
    ) -> tuple[dict[str, Any], SynthesisSettings]:
        """The voice's stored settings under the request's, and what the model makes of them."""
        from xiwidgets.server.engines import SynthesisSettings

        settings = {**self._voices.settings_of(voice), **(voice_settings or {})}
        return settings, model.effective_settings(SynthesisSettings(**settings, seed=seed))

    def _reserve(self, cost: int, request_id: str) -> Reservation:
        """Take ``cost`` characters from the quota for a take already admitted (in flight)."""
        try:
            reservation = self._store.reserve_characters(cost, request_id)
        except QuotaRefusedError as exc:
            reset_unix = self._store.account()["next_reset_unix"]
            raise QuotaExceededError(exc.needed, exc.left, reset_unix) from None
        return reservation

    def _chunks(self, plan: TakePlan) -> Iterator[AudioChunk]:
        if plan.lines:
            return dialogue.dialogue_chunks(self._synthesizer, plan.lines, plan.lexicon)
        return self._synthesizer.synthesize(
            plan.spoken_text.spoken, plan.spec, plan.synthesis_settings, plan.lexicon
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
        alignment = AlignmentBuilder(plan.spoken_text)
        offset = 0.0
        counted = True
        try:
            # The next clause is made while this one is encoded and handed over.
            with (self._concurrency.synthesis_slots,
                  read_ahead(lambda: self._chunks(plan)) as chunks):
                for chunk in chunks:
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
            self._settle(plan, bytes(take_audio.history_audio), alignment.alignments())
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

    def _settle(
        self, plan: TakePlan, audio: bytes, alignments: dict[str, dict[str, Any]]
    ) -> None:
        """Bill the take and, when it is logged, store it: one transaction."""
        usage = _usage(plan)
        if plan.history_item_id is None:
            self._store.settle_take(plan.reservation, usage)
            return
        item = _history_record(
            [plan], plan.history_item_id, plan.text, alignments,
            voice=plan.voice if not plan.lines else None,
            lines=dialogue.dialogue_record(plan.lines) if plan.lines else None,
        )
        self._store.settle_take(plan.reservation, usage, item, audio, "mp3")


    def record_stream(
        self, plans: list[TakePlan], audio: bytes, alignments: dict[str, dict[str, Any]]
    ) -> str | None:
        """Keep a websocket stream's takes (already billed one by one) as one history item.

        Parameters
        ----------
        plans : list of TakePlan
            The stream's takes, in order (all of one voice, model and settings).
        audio : bytes
            The stream's whole audio as MP3.
        alignments : dict
            ``{"alignment": ..., "normalized_alignment": ...}`` over the whole stream.

        Returns
        -------
        str or None
            The history item's id; ``None`` when the stream said nothing.
        """
        if not plans or not audio:
            return None
        item = _history_record(plans, new_id(), "".join(plan.text for plan in plans),
                               alignments, voice=plans[0].voice)
        self._store.add_history_item(item, audio, "mp3")
        return item.history_item_id


def _history_record(
    plans: Sequence[TakePlan],
    history_item_id: str,
    text: str,
    alignments: dict[str, dict[str, Any]],
    voice: VoiceRecord | None,
    lines: list[dict[str, Any]] | None = None,
) -> HistoryRecord:
    """The history item of ``plans`` (one take, or a websocket stream's): the first one's
    model, format and settings, the quota from before the first to after the last."""
    first, last = plans[0], plans[-1]
    return HistoryRecord(
        history_item_id=history_item_id,
        request_id=first.request_id,
        voice_id=voice.voice_id if voice else None,
        voice_name=voice.name if voice else None,
        voice_category=voice.category if voice else None,
        model_id=first.model_id,
        text=text,
        date_unix=int(time.time()),
        character_count_change_from=first.reservation.count_from,
        character_count_change_to=last.reservation.count_to,
        content_type=HISTORY_CONTENT_TYPE,
        output_format=first.output_format.name,
        settings=first.settings,
        alignments=alignments,
        dialogue=lines,
    )


def _said(model: Model, text: str, language: str, text_normalization: str | None) -> SpokenText:
    """``text`` as the engine says it: normalized in ``language`` when the model does so."""
    if model.normalizes(text_normalization):
        return normalize(text, language)
    return SpokenText.unchanged(text)


def _check_said_length(text: str, lexicon: Lexicon, max_characters: int) -> None:
    """Refuse a text whose aliases would have the engines say far more than was sent.

    Raises
    ------
    InvalidPronunciationRulesError
        When the text as said passes the model's limit, or one clause of it passes
        ``MAX_SAID_CLAUSE_CHARACTERS`` (an engine speaks a clause in one piece).
    """
    total, longest = lexicon.said_lengths(text)
    if total > max_characters:
        raise InvalidPronunciationRulesError(
            f"With its pronunciation rules applied the text would be {total:,} characters, "
            f"over the model's limit of {max_characters:,}; shorten the text or the aliases."
        )
    if longest > MAX_SAID_CLAUSE_CHARACTERS:
        raise InvalidPronunciationRulesError(
            f"With its pronunciation rules applied one clause of the text would be {longest:,} "
            f"characters (at most {MAX_SAID_CLAUSE_CHARACTERS:,} are said in one piece); add "
            "punctuation or shorten the aliases."
        )
def spoken_spec(model: Model, spec: VoiceSpec, language_code: str | None) -> VoiceSpec:
    """The engine voice that reads a voice's text with ``model`` in ``language_code``.

    Without a code, the model's choice (``Model.voice_spec_for``). With one, the hosted API's
    rule: the text is read in that language, so a voice of another language is read by its
    engine's voice for it (as ``voice_spec_for`` switches for a model's languages; Kokoro and
    espeak-ng voices read every language of their engine, with its rules).

    Raises
    ------
    UnsupportedLanguageError
        For a code the model does not list, or one the voice's engine cannot read.
    """
    from xiwidgets.server.engines.registry import find_engine

    if language_code is None:
        return model.voice_spec_for(spec)
    code = language_code.lower()
    engine = find_engine(spec.engine)
    spoken_by = engine.languages if engine is not None else (spec.language,)
    if code not in model.languages or code not in spoken_by:
        raise UnsupportedLanguageError(language_code, model.model_id, model.languages,
                                       tuple(sorted(spoken_by)))
    if code == spec.language or engine is None:  # no engine: it speaks only its own
        return spec
    return replace(spec, engine_voice=engine.voices[code], language=code)


def _cost(model: Model, characters: int) -> int:
    """Characters billed for a take of ``characters`` characters with ``model``."""
    return max(1, round(characters * model.character_cost_multiplier))


def _usage(plan: TakePlan) -> list[Usage]:
    """The take's usage events: one per voice, a dialogue's cost shared by its voices'
    characters (the first voice takes the rounding, so they sum to the cost billed)."""
    if not plan.lines:
        return [Usage(plan.voice.voice_id, plan.model_id, plan.character_cost)]
    characters: dict[str, int] = {}
    for line in plan.lines:
        characters[line.voice.voice_id] = characters.get(line.voice.voice_id, 0) + len(line.text)
    total = sum(characters.values())
    cost = plan.character_cost
    shares = {voice_id: cost * count // total for voice_id, count in characters.items()}
    first = next(iter(shares))
    shares[first] += cost - sum(shares.values())
    return [Usage(voice_id, plan.model_id, share) for voice_id, share in shares.items()]


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
