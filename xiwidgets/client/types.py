"""Small frozen dataclasses for what the API returns, parsed leniently.

Parsing never fails on shape: fields the API adds later land in ``extra``, fields it leaves out
are ``None``. The account's API key, which ``GET /v1/user`` echoes back, is dropped on parsing so
that no result object can ever show it.
"""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

if TYPE_CHECKING:
    from xiwidgets.client.api import Client
    from xiwidgets.client.captions import Word

T = TypeVar("T", bound="_Lenient")

# Never kept on any parsed object: the hosted API returns the caller's key in GET /v1/user.
_SECRET_FIELDS = frozenset({"xi_api_key"})


class _Lenient(Protocol):
    """A frozen result dataclass: its API fields plus ``extra`` for the fields it does not know."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    def __init__(self, *args: Any, extra: Mapping[str, Any], **kwargs: Any) -> None: ...


def _parse(cls: type[T], data: Mapping[str, Any] | None,
           convert: Mapping[str, Callable[[Any], Any]] | None = None) -> T:
    """Build ``cls`` from ``data``: known fields (converted), the rest into ``extra``."""
    data = dict(data or {})
    for name in _SECRET_FIELDS:
        data.pop(name, None)
    known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
    values: dict[str, Any] = {}
    for name in known:
        value = data.pop(name, None)
        if value is not None and convert and name in convert:
            value = convert[name](value)
        values[name] = value
    return cls(**values, extra=data)


def _tuple(values: Sequence[Any] | None) -> tuple[Any, ...]:
    return tuple(values or ())


@dataclass(frozen=True)
class VoiceSettings:
    """A voice's settings; every field optional (``None`` means "use the stored/default value").

    Parameters
    ----------
    stability, similarity_boost, style : float, optional
        0.0–1.0.
    use_speaker_boost : bool, optional
    speed : float, optional
        0.7–1.2; below 1 is slower.

    The ranges and defaults are ``xiwidgets.voice_settings_rules.RANGES`` / ``DEFAULTS``, the
    ones the local server enforces; ``unusable_fields`` names what a model ignores.
    extra : mapping
        Fields this version does not know.
    """

    stability: float | None = None
    similarity_boost: float | None = None
    style: float | None = None
    use_speaker_boost: bool | None = None
    speed: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> VoiceSettings:
        """Parse an API ``VoiceSettings`` object."""
        return _parse(cls, data)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object to send: set fields only (``None`` dropped)."""
        values = {k: v for k, v in self.extra.items() if v is not None}
        values.update({f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                       if f.name != "extra" and getattr(self, f.name) is not None})
        return values


@dataclass(frozen=True)
class Voice:
    """A voice (``VoiceResponseModel``)."""

    voice_id: str
    name: str | None = None
    category: str | None = None
    labels: Mapping[str, str] | None = None
    description: str | None = None
    preview_url: str | None = None
    settings: VoiceSettings | None = None
    samples: tuple[Mapping[str, Any], ...] | None = None
    high_quality_base_model_ids: tuple[str, ...] | None = None
    verified_languages: tuple[Mapping[str, Any], ...] | None = None
    is_owner: bool | None = None
    is_legacy: bool | None = None
    is_mixed: bool | None = None
    created_at_unix: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Voice:
        """Parse an API voice object."""
        return _parse(cls, data, {
            "settings": VoiceSettings.from_dict, "samples": _tuple,
            "high_quality_base_model_ids": _tuple, "verified_languages": _tuple,
        })


@dataclass(frozen=True)
class VoicePage:
    """One page of ``GET /v2/voices``."""

    voices: tuple[Voice, ...]
    has_more: bool | None = None
    total_count: int | None = None
    next_page_token: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VoicePage:
        """Parse a v2 voices page."""
        page = _parse(cls, data, {"voices": lambda vs: tuple(Voice.from_dict(v) for v in vs)})
        return page if page.voices is not None else dataclasses.replace(page, voices=())


@dataclass(frozen=True)
class Model:
    """A model (``ModelResponseModel``)."""

    model_id: str
    name: str | None = None
    description: str | None = None
    can_do_text_to_speech: bool | None = None
    can_use_style: bool | None = None
    can_use_speaker_boost: bool | None = None
    languages: tuple[Mapping[str, str], ...] | None = None
    token_cost_factor: float | None = None
    max_characters_request_free_user: int | None = None
    max_characters_request_subscribed_user: int | None = None
    maximum_text_length_per_request: int | None = None
    model_rates: Mapping[str, Any] | None = None
    concurrency_group: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Model:
        """Parse an API model object."""
        return _parse(cls, data, {"languages": _tuple})


@dataclass(frozen=True)
class Alignment:
    """Per-character timings: three parallel tuples, times in seconds."""

    characters: tuple[str, ...]
    character_start_times_seconds: tuple[float, ...]
    character_end_times_seconds: tuple[float, ...]
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Alignment | None:
        """Parse the REST shape (``characters``, ``character_*_times_seconds``)."""
        if not data:
            return None
        return _parse(cls, data, {
            "characters": _tuple, "character_start_times_seconds": _tuple,
            "character_end_times_seconds": _tuple,
        })

    @classmethod
    def from_websocket(cls, data: Mapping[str, Any] | None) -> Alignment | None:
        """Parse the WebSocket shape (``chars``, ``charStartTimesMs``, ``charsDurationsMs``)."""
        if not data:
            return None
        starts = [ms / 1000 for ms in data.get("charStartTimesMs") or ()]
        durations = [ms / 1000 for ms in data.get("charsDurationsMs") or ()]
        return cls(
            characters=_tuple(data.get("chars")),
            character_start_times_seconds=tuple(starts),
            character_end_times_seconds=tuple(
                s + d for s, d in zip(starts, durations, strict=False)),
        )

    @property
    def text(self) -> str:
        """The characters joined back into text."""
        return "".join(self.characters)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@dataclass(frozen=True)
class ResponseInfo:
    """The headers of a TTS response that callers care about."""

    request_id: str | None = None
    history_item_id: str | None = None
    character_cost: int | None = None
    content_type: str | None = None
    current_concurrent_requests: int | None = None
    maximum_concurrent_requests: int | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> ResponseInfo:
        """Read the headers (case-insensitive mapping)."""
        return cls(
            request_id=headers.get("request-id"),
            history_item_id=headers.get("history-item-id"),
            character_cost=_int_or_none(headers.get("character-cost")),
            content_type=headers.get("content-type"),
            current_concurrent_requests=_int_or_none(headers.get("current-concurrent-requests")),
            maximum_concurrent_requests=_int_or_none(headers.get("maximum-concurrent-requests")),
        )


class NoAlignmentError(ValueError):
    """Words or captions were asked of a take that has no character timings."""


_NO_ALIGNMENT = ("This take has no character timings, so no words or captions: make it with "
                 "client.tts.convert_with_timestamps(...) (a TimedTake).")


class PlayableAudio(abc.ABC):
    """What every take shares: samples decoded once, a notebook player and pictures.

    A subclass is a frozen dataclass with ``audio`` bytes and a ``_decoded`` dict field
    (``compare=False``) that caches the samples; it says how its bytes are encoded through
    ``_audio_format()`` and what its player's line says through ``_caption()``.
    """

    audio: bytes
    _decoded: dict[str, Any]

    @abc.abstractmethod
    def _audio_format(self) -> Any:
        """The :class:`xiwidgets.client.media.AudioFormat` of ``audio``."""

    @abc.abstractmethod
    def _caption(self) -> str:
        """The line of metadata under the player."""

    def _pcm(self) -> tuple[Any, int]:
        if "pcm" not in self._decoded:
            from xiwidgets.client.media import decode

            samples, rate = decode(self.audio, self._audio_format())
            decoded: tuple[Any, int] = (samples, rate)
            samples.flags.writeable = False  # shared by every reader of the take
            self._decoded["pcm"] = decoded
            return decoded
        cached: tuple[Any, int] = self._decoded["pcm"]
        return cached

    @property
    def samples(self) -> Any:
        """The audio as a read-only mono float32 numpy array in [-1, 1] (decoded once).

        Needs PyAV and numpy (``pip install 'xiwidgets[audio]'``); ``.copy()`` it to change it.
        """
        return self._pcm()[0]

    @property
    def sample_rate(self) -> int:
        """Samples per second of :attr:`samples`."""
        return self._pcm()[1]

    def plot(self, **kwargs: Any) -> Any:
        """Waveform, spectrogram and (when known) the words on a timeline, with matplotlib.

        See :func:`xiwidgets.experiments.plot_take` for the keywords.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from xiwidgets.experiments.plots import plot_take

        return plot_take(self, **kwargs)

    def _repr_html_(self) -> str:
        from xiwidgets.client.media import playable, player_html

        audio, media_type = playable(self.audio, self._audio_format(), self._pcm)
        return player_html(audio, media_type, self._caption())


@dataclass(frozen=True, repr=False)
class Take(PlayableAudio):
    """A finished piece of audio, the response headers that came with it, and what made it.

    Besides the audio and headers, a take made by the client keeps the request (text, voice,
    model, settings, seed, output format, further options) and its timings, so that an
    experiment can be told and repeated from its takes alone. Fields are ``None`` when unknown.
    As the value of a notebook cell it shows as a player with one line of metadata.
    """

    audio: bytes
    info: ResponseInfo = field(default_factory=ResponseInfo)
    text: str | None = field(default=None, kw_only=True)
    voice_id: str | None = field(default=None, kw_only=True)
    voice_name: str | None = field(default=None, kw_only=True)
    model_id: str | None = field(default=None, kw_only=True)
    voice_settings: VoiceSettings | None = field(default=None, kw_only=True)
    seed: int | None = field(default=None, kw_only=True)
    output_format: str | None = field(default=None, kw_only=True)
    options: Mapping[str, Any] = field(default_factory=dict, kw_only=True, hash=False)
    # Seconds from sending the request to its response headers, and to the last byte.
    time_to_first_byte: float | None = field(default=None, kw_only=True, compare=False)
    total_time: float | None = field(default=None, kw_only=True, compare=False)
    _decoded: dict[str, Any] = field(default_factory=dict, init=False, repr=False,
                                     compare=False)

    request_id = property(lambda self: self.info.request_id, doc="The ``request-id`` header.")
    history_item_id = property(lambda self: self.info.history_item_id,
                               doc="The ``history-item-id`` header.")
    character_cost = property(lambda self: self.info.character_cost,
                              doc="Characters billed (``character-cost`` header).")

    @property
    def content_type(self) -> str | None:
        """Audio media type."""
        content_type = self.info.content_type
        if self.output_format and (not content_type or content_type.startswith("application/")):
            from xiwidgets.client.media import media_type

            return media_type(self.output_format)
        return content_type

    @property
    def duration(self) -> float:
        """Seconds of audio (from the decoded samples)."""
        samples, rate = self._pcm()
        return len(samples) / rate if rate else 0.0

    @property
    def words(self) -> list[Word]:
        """Words with their times: only a :class:`TimedTake` has them."""
        raise NoAlignmentError(_NO_ALIGNMENT)

    def to_srt(self) -> str:
        """SubRip captions of :attr:`words` (lines of at most 42 characters and 7 s)."""
        from xiwidgets.client.captions import to_srt

        return to_srt(self.words)

    def to_vtt(self) -> str:
        """WebVTT captions of :attr:`words` (lines of at most 42 characters and 7 s)."""
        from xiwidgets.client.captions import to_vtt

        return to_vtt(self.words)

    def save_captions(self, path: str | Path) -> Path:
        """Write captions to ``path``: SRT for ``.srt``, WebVTT for ``.vtt``; return the path."""
        from xiwidgets.client.captions import save_captions

        return save_captions(self.words, path)

    def save(self, path: str | Path) -> Path:
        """Write the audio to ``path`` and return it."""
        path = Path(path)
        path.write_bytes(self.audio)
        return path

    def align(self, client: Client) -> TimedTake:
        """This take with character timings, found by forced alignment of its audio and text.

        A take made without timestamps (``client.tts.convert``, a history download) gets the
        words and captions a :class:`TimedTake` has; a take that already has them is returned
        as it is.

        Parameters
        ----------
        client : Client
            The API that aligns (``client.forced_alignment.create``); the hosted API bills it
            by audio duration, the local server does not bill it.

        Returns
        -------
        TimedTake
            The same audio, request and headers, with ``alignment`` (and the same
            ``normalized_alignment``: alignment hears the text as spoken).

        Raises
        ------
        ValueError
            The take does not know its text.
        """
        if isinstance(self, TimedTake) and (self.alignment or self.normalized_alignment):
            return self
        if not self.text:
            raise ValueError("This take does not know its text, so it cannot be aligned: "
                             "use client.forced_alignment.create(audio, text).")
        aligned = client.forced_alignment.create(self._upload(), self.text)
        made = {f.name: getattr(self, f.name) for f in dataclasses.fields(Take) if f.init}
        return TimedTake(**made, alignment=aligned.alignment,
                         normalized_alignment=aligned.alignment)

    def _upload(self) -> tuple[str, bytes]:
        """The audio as a named file a decoder reads (raw samples are wrapped in WAV)."""
        from xiwidgets.client.media import playable
        from xiwidgets.formats import codec_of_media_type

        audio, media_type = playable(self.audio, self._audio_format(), self._pcm)
        codec = codec_of_media_type(media_type)
        return f"take{codec.extension if codec is not None else '.bin'}", audio

    def _audio_format(self) -> Any:
        from xiwidgets.client.media import audio_format

        return audio_format(self.output_format, self.info.content_type)

    def _caption(self) -> str:
        from xiwidgets.client.media import caption_line

        try:
            duration: float | None = self.duration
        except (ImportError, ValueError):
            duration = None
        return caption_line(voice=self.voice_name or self.voice_id, model_id=self.model_id,
                            duration=duration, character_cost=self.character_cost,
                            request_id=self.request_id)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({len(self.audio)} bytes, content_type="
                f"{self.content_type!r}, request_id={self.request_id!r}, "
                f"history_item_id={self.history_item_id!r}, character_cost={self.character_cost})")


@dataclass(frozen=True, repr=False)
class TimedTake(Take):
    """A finished take with its character alignment (``/with-timestamps``)."""

    alignment: Alignment | None = None
    normalized_alignment: Alignment | None = None

    @property
    def words(self) -> list[Word]:
        """The words and their times, from the character alignment (decoded once).

        Punctuation stays on its word; times never go back and stay inside the audio.

        Raises
        ------
        NoAlignmentError
            The response carried no alignment.
        """
        alignment = self.alignment or self.normalized_alignment
        if alignment is None:
            raise NoAlignmentError(_NO_ALIGNMENT)
        if "words" not in self._decoded:
            from xiwidgets.client.captions import words_from_alignment

            try:
                duration: float | None = self.duration
            except (ImportError, ValueError):
                duration = None  # no decoder: the alignment's own end is the limit
            self._decoded["words"] = words_from_alignment(alignment, duration)
        return list(self._decoded["words"])


@dataclass(frozen=True)
class TimedChunk:
    """One piece of ``/stream/with-timestamps``: audio bytes and the characters it covers."""

    audio: bytes = field(repr=False)
    alignment: Alignment | None = None
    normalized_alignment: Alignment | None = None


@dataclass(frozen=True)
class RealtimeChunk:
    """One WebSocket audio message; alignment times are seconds relative to this chunk."""

    audio: bytes = field(repr=False)
    alignment: Alignment | None = None
    normalized_alignment: Alignment | None = None
    is_final: bool = False


@dataclass(frozen=True)
class HistoryItem:
    """One generation in the history (``SpeechHistoryItemResponseModel``)."""

    history_item_id: str
    request_id: str | None = None
    voice_id: str | None = None
    voice_name: str | None = None
    voice_category: str | None = None
    model_id: str | None = None
    text: str | None = None
    date_unix: int | None = None
    character_count_change_from: int | None = None
    character_count_change_to: int | None = None
    content_type: str | None = None
    state: str | None = None
    settings: Mapping[str, Any] | None = None
    source: str | None = None
    output_format: str | None = None
    # A text-to-dialogue take's lines ({"text", "voice_id", "voice_name"}); its text and
    # voice fields are then empty.
    dialogue: tuple[Mapping[str, Any], ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HistoryItem:
        """Parse an API history item."""
        return _parse(cls, data, {"dialogue": _tuple})

    @property
    def spoken_text(self) -> str | None:
        """What was said: the text, or a dialogue's lines joined by a space."""
        if self.text is None and self.dialogue:
            return " ".join(str(line.get("text") or "") for line in self.dialogue)
        return self.text

    @property
    def speakers(self) -> str | None:
        """Who said it: the voice name, or a dialogue's voice names in order of appearance."""
        if self.voice_name is None and self.dialogue:
            names = (str(line.get("voice_name") or line.get("voice_id")) for line in self.dialogue)
            return " / ".join(dict.fromkeys(names))
        return self.voice_name

    @property
    def date(self) -> dt.datetime | None:
        """Creation time (UTC)."""
        if self.date_unix is None:
            return None
        return dt.datetime.fromtimestamp(self.date_unix, tz=dt.timezone.utc)

    @property
    def character_cost(self) -> int | None:
        """Characters this generation used."""
        if self.character_count_change_from is None or self.character_count_change_to is None:
            return None
        return self.character_count_change_to - self.character_count_change_from


@dataclass(frozen=True)
class HistoryPage:
    """One page of ``GET /v1/history``."""

    items: tuple[HistoryItem, ...]
    has_more: bool = False
    last_history_item_id: str | None = None
    scanned_until: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HistoryPage:
        """Parse a history page (the API calls the list ``history``)."""
        data = dict(data)
        items = tuple(HistoryItem.from_dict(i) for i in data.pop("history", None) or ())
        page = _parse(cls, {**data, "items": items})
        return dataclasses.replace(page, has_more=bool(page.has_more))


@dataclass(frozen=True)
class Subscription:
    """The account's plan and character quota."""

    tier: str | None = None
    status: str | None = None
    character_count: int | None = None
    character_limit: int | None = None
    next_character_count_reset_unix: int | None = None
    voice_slots_used: int | None = None
    voice_limit: int | None = None
    can_use_instant_voice_cloning: bool | None = None
    currency: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Subscription:
        """Parse a subscription object."""
        return _parse(cls, data)

    @property
    def characters_left(self) -> int | None:
        """``character_limit - character_count`` (never negative)."""
        if self.character_limit is None or self.character_count is None:
            return None
        return max(0, self.character_limit - self.character_count)


@dataclass(frozen=True)
class User:
    """The account (``GET /v1/user``), without the API key the hosted API echoes back."""

    user_id: str | None = None
    first_name: str | None = None
    subscription: Subscription | None = None
    is_new_user: bool | None = None
    created_at: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> User:
        """Parse a user object."""
        return _parse(cls, data, {"subscription": Subscription.from_dict})


@dataclass(frozen=True)
class CharacterStats:
    """Usage per time bucket: ``time`` (ms since epoch) and one series per breakdown key."""

    time: tuple[int, ...]
    usage: Mapping[str, tuple[float, ...]]
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CharacterStats:
        """Parse ``GET /v1/usage/character-stats``."""
        stats = _parse(cls, data, {
            "time": _tuple, "usage": lambda u: {k: _tuple(v) for k, v in u.items()},
        })
        return dataclasses.replace(stats, time=stats.time or (), usage=stats.usage or {})

    @property
    def total(self) -> float:
        """Sum over all buckets and keys."""
        return float(sum(sum(series) for series in self.usage.values()))


@dataclass(frozen=True)
class BatchItem(PlayableAudio):
    """What happened to one item of :meth:`Client.synthesize_many`.

    A finished item (``ok`` or ``skipped``) reads its file on demand: it plays as the value of a
    notebook cell, has ``.samples`` and ``.duration``, and :meth:`take` loads it as a
    :class:`Take` with everything that made it.
    """

    index: int
    text: str
    file: str | None
    voice_id: str | None
    model_id: str | None
    settings: str
    status: str  # "ok", "skipped" (already done), "failed"
    character_cost: int | None = None
    request_id: str | None = None
    history_item_id: str | None = None
    error: str | None = None
    output_format: str | None = None
    # The server's count of requests in flight when it took this one (not in the manifest).
    current_concurrent_requests: int | None = None
    seed: int | None = None
    options: str = ""  # further request fields as JSON, "" when none
    captions: str | None = None  # the caption file beside the audio, when asked for
    time_to_first_byte: float | None = None
    total_time: float | None = None
    path: Path | None = field(default=None, compare=False)
    _decoded: dict[str, Any] = field(default_factory=dict, init=False, repr=False,
                                     compare=False)

    # A batch item's audio lives in its file; other playable audio holds its bytes.
    @property
    def audio(self) -> bytes:  # type: ignore[override]
        """The audio file's bytes (read each time; ``b""`` for a failed item)."""
        return self.path.read_bytes() if self.path is not None else b""

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        samples, rate = self._pcm()
        return len(samples) / rate if rate else 0.0

    def take(self) -> Take:
        """The item as a :class:`Take` (audio, headers and the request that made it)."""
        if self.path is None:
            raise ValueError(f"Item {self.index} has no audio: it {self.status} "
                             f"({self.error or 'no file'}).")
        import json

        return Take(
            self.path.read_bytes(),
            ResponseInfo(request_id=self.request_id, history_item_id=self.history_item_id,
                         character_cost=self.character_cost),
            text=self.text, voice_id=self.voice_id, model_id=self.model_id,
            voice_settings=VoiceSettings.from_dict(json.loads(self.settings))
            if self.settings else None,
            seed=self.seed, output_format=self.output_format,
            options=json.loads(self.options) if self.options else {},
            time_to_first_byte=self.time_to_first_byte, total_time=self.total_time)

    def _audio_format(self) -> Any:
        from xiwidgets.client.media import audio_format

        return audio_format(self.output_format)

    def _caption(self) -> str:
        from xiwidgets.client.media import caption_line

        return caption_line(voice=self.voice_id, model_id=self.model_id,
                            duration=self.duration, character_cost=self.character_cost,
                            request_id=self.request_id)

    def _repr_html_(self) -> str:
        if self.path is None:
            import html

            return f"<div>item {self.index}: {html.escape(self.status)} — " \
                   f"{html.escape(self.error or '')}</div>"
        return super()._repr_html_()


@dataclass(frozen=True)
class BatchResult:
    """The outcome of :meth:`Client.synthesize_many`."""

    out_dir: Path
    manifest_path: Path
    items: tuple[BatchItem, ...]

    @property
    def succeeded(self) -> list[BatchItem]:
        """Items synthesized in this run."""
        return [i for i in self.items if i.status == "ok"]

    @property
    def skipped(self) -> list[BatchItem]:
        """Items found already done from an earlier run."""
        return [i for i in self.items if i.status == "skipped"]

    @property
    def failures(self) -> list[BatchItem]:
        """Items that failed; their ``error`` says why."""
        return [i for i in self.items if i.status == "failed"]


def _words_of(entries: Sequence[Mapping[str, Any]]) -> tuple[Word, ...]:
    from xiwidgets.client.captions import Word

    return tuple(Word(str(entry.get("text", "")), float(entry.get("start") or 0.0),
                      float(entry.get("end") or 0.0)) for entry in entries)


@dataclass(frozen=True)
class ForcedAlignment:
    """A recording's words and characters timed against its known text (``/v1/forced-alignment``).

    ``words`` are the same :class:`~xiwidgets.client.captions.Word` a take's ``words`` are, so
    captions and the player's word highlight work the same; ``alignment`` holds the characters
    in the shape of a take's alignment. ``word_losses`` (one per word) and ``loss`` say how
    unsure each placement is (0 sure, 1 a guess between neighbours).
    """

    words: tuple[Word, ...]
    word_losses: tuple[float, ...]
    alignment: Alignment
    loss: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ForcedAlignment:
        """Parse the ``ForcedAlignmentResponseModel``."""
        data = dict(data)
        words = list(data.pop("words", None) or ())
        characters = list(data.pop("characters", None) or ())
        loss = data.pop("loss", None)
        alignment = Alignment(
            characters=tuple(str(c.get("text", "")) for c in characters),
            character_start_times_seconds=tuple(float(c.get("start") or 0.0) for c in characters),
            character_end_times_seconds=tuple(float(c.get("end") or 0.0) for c in characters))
        return cls(words=_words_of(words),
                   word_losses=tuple(float(w.get("loss") or 0.0) for w in words),
                   alignment=alignment, loss=None if loss is None else float(loss), extra=data)


@dataclass(frozen=True)
class Transcription:
    """What was said in a recording (``/v1/speech-to-text``): text, language and timed words.

    ``words`` holds the spoken words only (the response's ``spacing`` and ``audio_event``
    entries stay in ``entries``), as the :class:`~xiwidgets.client.captions.Word` takes use.
    """

    text: str
    language_code: str | None = None
    language_probability: float | None = None
    words: tuple[Word, ...] = ()
    entries: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Transcription:
        """Parse the ``SpeechToTextChunkResponseModel``."""
        data = dict(data)
        entries = tuple(data.pop("words", None) or ())
        probability = data.pop("language_probability", None)
        return cls(text=str(data.pop("text", "") or ""), language_code=data.pop("language_code",
                                                                                None),
                   language_probability=None if probability is None else float(probability),
                   words=_words_of([e for e in entries if e.get("type", "word") == "word"]),
                   entries=entries, extra=data)
