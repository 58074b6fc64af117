"""The :class:`Client`: one object per API (hosted or local), grouping the endpoints by topic."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from xiwidgets.client import endpoints
from xiwidgets.client.batch import synthesize_many
from xiwidgets.client.dialogue import TextToDialogue
from xiwidgets.client.distributed import WorkerConnection, connection_for
from xiwidgets.client.history import History
from xiwidgets.client.ledger import Ledger
from xiwidgets.client.pronunciation import Pronunciation
from xiwidgets.client.speech import ForcedAlignmentAPI, SpeechToText
from xiwidgets.client.transport import Transport
from xiwidgets.client.tts import TextToSpeech
from xiwidgets.client.types import BatchResult, CharacterStats, Model, Subscription, User
from xiwidgets.client.voice_design import VoiceDesign
from xiwidgets.client.voices import SettingsLike, VoiceRef, Voices
from xiwidgets.config import is_loopback_host, resolve_base_url
from xiwidgets.formats import DEFAULT_OUTPUT_FORMAT


class Models:
    """``client.models``: the models text can be spoken with."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def list(self) -> list[Model]:
        """All models (``GET /v1/models``)."""
        return [Model.from_dict(m) for m in self._transport.json("GET", endpoints.MODELS)]


class Account:
    """``client.user``: the account and its quota."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def get(self) -> User:
        """The account (``GET /v1/user``); the key it echoes back is never kept."""
        return User.from_dict(self._transport.json("GET", endpoints.USER))

    def subscription(self) -> Subscription:
        """Plan and character quota (``GET /v1/user/subscription``)."""
        return Subscription.from_dict(self._transport.json("GET", endpoints.SUBSCRIPTION))


def _unix_ms(value: int | float | dt.datetime) -> int:
    if isinstance(value, dt.datetime):
        return int(value.timestamp() * 1000)
    return int(value)


class Usage:
    """``client.usage``: characters used over time."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def character_stats(self, start_unix: int | dt.datetime, end_unix: int | dt.datetime,
                        **params: Any) -> CharacterStats:
        """Usage per time bucket (``GET /v1/usage/character-stats``).

        Parameters
        ----------
        start_unix, end_unix : int or datetime
            Interval, in **milliseconds** since the epoch (or datetimes).
        **params
            ``breakdown_type``, ``aggregation_interval``, ``metric``…

        Returns
        -------
        CharacterStats
        """
        query = {"start_unix": _unix_ms(start_unix), "end_unix": _unix_ms(end_unix), **params}
        return CharacterStats.from_dict(
            self._transport.json("GET", endpoints.CHARACTER_STATS, params=query))


class Client:
    """A client for the ElevenLabs text-to-speech API, hosted or local.

    Parameters
    ----------
    api_key : str, optional
        The key; without one, ``$ELEVENLABS_API_KEY`` then ``$XI_API_KEY`` are read at each
        request, so a key set after the client was made is used.
    base_url : str, optional
        ``$ELEVENLABS_BASE_URL`` or the hosted API (``https://api.elevenlabs.io``) by default.
    session : requests.Session, optional
        A session to reuse (proxies, adapters); the client makes its own otherwise.
    timeout : float or (float, float)
        Seconds to wait for the connection and for each read (or a ``(connect, read)`` pair).
    max_retries : int
        Retries on 429, 5xx and connection failures (exponential backoff with jitter,
        ``Retry-After`` honoured) for requests that may be sent twice (reads, deletes). A
        request that makes something (a take, which is billed, or a voice) is retried only when
        the server provably did not act on it: a 429, a 503 with ``Retry-After``, or a
        connection that could not be opened. Otherwise (another 5xx, a dropped connection, a
        read timeout, a stream cut after the server answered) the error carries
        ``request_id``/``history_item_id`` and says where to look for the take before retrying.
    backoff : float
        Base delay of the backoff, in seconds.

    Attributes
    ----------
    voices, models, tts, dialogue, history, user, usage, pronunciation, forced_alignment,
    speech_to_text
        The endpoints, grouped by topic.
    voice_design
        Voices designed from a description (also ``text_to_voice``, the official SDK's name).

    Examples
    --------
    >>> client = Client()                                    # doctest: +SKIP
    >>> take = client.tts.convert("Joe", text="Hello!")      # doctest: +SKIP
    >>> take.save("hello.mp3")                               # doctest: +SKIP
    """

    def __init__(self, api_key: str | None = None, base_url: str | None = None,
                 session: requests.Session | None = None,
                 timeout: float | tuple[float, float] = 30.0, max_retries: int = 3,
                 backoff: float = 0.5) -> None:
        self._transport = Transport(resolve_base_url(base_url), api_key, session, timeout,
                                    max_retries, backoff)
        self._embedded = False
        self.voices = Voices(self._transport)
        self.models = Models(self._transport)
        ledger = Ledger()  # what the client remembers of its takes, for history.to_dataframe()
        self.tts = TextToSpeech(self._transport, self.voices, ledger)
        self.dialogue = TextToDialogue(self._transport, self.voices)
        self.history = History(self._transport, ledger)
        self.user = Account(self._transport)
        self.usage = Usage(self._transport)
        self.pronunciation = Pronunciation(self._transport)
        self.forced_alignment = ForcedAlignmentAPI(self._transport)
        self.speech_to_text = SpeechToText(self._transport)
        self.voice_design = VoiceDesign(self._transport, self.voices)
        self.text_to_voice = self.voice_design  # the official SDK's name

    @property
    def base_url(self) -> str:
        """Where requests go."""
        return self._transport.base_url

    @property
    def is_local(self) -> bool:
        """Whether this client talks to the embedded or another local (loopback) server."""
        return self._embedded or is_loopback_host(urlsplit(self.base_url).hostname or "")

    @property
    def has_api_key(self) -> bool:
        """Whether requests currently carry an API key (the key itself is never shown)."""
        return self._transport.has_key

    def synthesize_many(self, items: Iterable[str | Mapping[str, Any]], *,
                        voice: VoiceRef | None = None, model_id: str | None = None,
                        settings: SettingsLike | None = None, out_dir: str | Path = "takes",
                        output_format: str = DEFAULT_OUTPUT_FORMAT,
                        max_concurrency: int | None = None,
                        progress: bool = True, captions: str | None = None,
                        executor: object = None,
                        worker_connection: WorkerConnection | None = None,
                        write_files: str = "client") -> BatchResult:
        """Synthesize many texts into ``out_dir``, with a manifest, resumably.

        Parameters
        ----------
        items : iterable of str or mapping, or a pandas DataFrame
            Texts, or rows with ``text`` and optional ``voice``, ``settings`` (mapping or JSON),
            ``model_id``, ``seed``, ``output_format``, ``options`` (further request fields:
            mapping or JSON) and ``filename``.
        voice : Voice or str, optional
            Voice for rows that do not name one.
        model_id : str, optional
            Model for every item (the server's default when ``None``).
        settings : VoiceSettings or mapping, optional
            Settings for rows that do not give their own.
        out_dir : path-like
            Folder for the audio files and ``manifest.csv`` (index, text, file, voice_id,
            model_id, settings, output_format, character_cost, request_id, history_item_id,
            status, error, seed, options, captions, time_to_first_byte, total_time).
        output_format : str
            Audio encoding of rows that do not give their own; it also sets the files'
            extension.
        max_concurrency : int, optional
            Most requests in flight at once. ``None``: the server's advertised maximum
            (``GET /v1/user``: the plan's concurrency; else 4 until a take's
            ``maximum-concurrent-requests`` header says). A server that refuses past its
            maximum (the hosted API; a local server with ``max_concurrent_requests``) is
            never sent more, whatever is given here. After a 429 the batch sends fewer at
            once, waits its ``Retry-After`` and sends the refused take again (it was not
            made); successes raise the concurrency back. The progress bar shows it
            (``concurrency=now/most``).
        progress : bool
            Show a progress bar (a notebook bar in Jupyter, text in a terminal).
        captions : {"srt", "vtt"}, optional
            Also write captions beside each audio file (``0001.srt``…); the takes are then
            made with timestamps.
        executor : dask.distributed.Client or concurrent.futures.Executor, optional
            Make the takes there instead of in threads of this process (e.g. on a Dask
            cluster). Each task builds its own client on its worker from
            ``worker_connection``, which carries no key: the worker reads
            ``ELEVENLABS_API_KEY`` from its own environment. The manifest and resume work as
            without; a task that fails (even a lost worker) is a failed row.
        worker_connection : WorkerConnection, optional
            Where the workers send their takes (``WorkerConnection.hosted()``,
            ``.server(url)``, ``.local()``: each worker process its own embedded server).
            Default: where this client goes, or ``local()`` for the embedded server (its key
            stays in this process).
        write_files : {"client", "workers"}
            With an executor: the workers return the audio and it is written here
            (``"client"``), or they write into ``out_dir`` themselves (``"workers"``, which
            must then be a folder every worker sees; checked before anything is sent).

        Returns
        -------
        BatchResult
            Every item with its status: ``"ok"``, ``"skipped"`` (done by an earlier run, file
            present and valid) or ``"failed"`` (with the error; the other items still ran). A
            failed item is never synthesized twice in one run; if the server may have made its
            take, its ``request_id``/``history_item_id`` are kept to find it in the history.
        """
        return synthesize_many(self.tts, self.voices, self._transport, items, voice=voice,
                               model_id=model_id, settings=settings, out_dir=out_dir,
                               output_format=output_format, max_concurrency=max_concurrency,
                               progress=progress, captions=captions, executor=executor,
                               worker_connection=worker_connection or (
                                   connection_for(self) if executor is not None else None),
                               write_files=write_files)

    def close(self) -> None:
        """Release the HTTP connections (the embedded server keeps running)."""
        self._transport.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "embedded local server" if self._embedded else (
            "local server" if self.is_local else "hosted API")
        # The embedded server's key is made up at its start: it is not the user's key.
        key = "session key" if self._embedded else (
            "key set" if self.has_api_key else "no key")
        return f"<xiwidgets.Client {self.base_url} ({where}, {key})>"
