"""IPython magics: ``%%speak`` speaks a cell, ``%xi_voices`` lists voices, ``%xi_history`` pages
the history. Loaded by ``%load_ext xiwidgets``.

A failing magic prints one line saying what went wrong (no traceback): a notebook author wants to
fix the voice name or the setting, not read the HTTP stack.
"""

from __future__ import annotations

import argparse
import html
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar, cast

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from xiwidgets import voice_settings_rules as rules
from xiwidgets.client.types import Voice
from xiwidgets.formats import NOTEBOOK_OUTPUT_FORMAT, codec_of_format
from xiwidgets.widgets._base import describe_error, resolve_client
from xiwidgets.widgets.history import HistoryTable
from xiwidgets.widgets.player import Player

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from xiwidgets.client import Client

POLICIES = ("embed", "link", "none")
_SETTING_OPTIONS = {
    "stability": "stability",
    "similarity": "similarity_boost",
    "style": "style",
    "speed": "speed",
    "speaker_boost": "use_speaker_boost",
}

def _span(setting: str) -> str:
    """The range a setting accepts, as its ``--help`` shows it (``0.7–1.2``)."""
    low, high = rules.RANGES[setting]
    return f"{low:g}–{high:g}"


_Magic = TypeVar("_Magic", bound=Callable[..., object])


class _MagicDecorator(Protocol):
    """A decorator that returns the magic it decorates (marked or with a parser attached)."""

    def __call__(self, magic: _Magic, /) -> _Magic: ...


# What IPython's magic decorators are, for the type checker (at run time these names are
# IPython's own objects). The magic_arguments module has no annotations; cell_magic and
# line_magic are typed as returning the method or a decorator, as they also take a magic's name,
# but used bare, as here, they return the method.
_cell_magic = cast(_MagicDecorator, cell_magic)
_line_magic = cast(_MagicDecorator, line_magic)
_magic_arguments = cast("Callable[[], _MagicDecorator]", magic_arguments)
_argument = cast("Callable[..., _MagicDecorator]", argument)
_parse_argstring = cast("Callable[[Callable[..., object], str], argparse.Namespace]",
                        parse_argstring)


class VoiceTable(list[Voice]):
    """Voices shown as an HTML table in a notebook (and still a plain list of ``Voice``)."""

    columns = ("name", "voice_id", "category", "language", "accent", "gender", "age",
               "description")

    def rows(self) -> list[dict[str, str]]:
        """One dict per voice with the table's columns."""
        rows = []
        for voice in self:
            labels = dict(voice.labels or {})
            rows.append({
                "name": voice.name or "",
                "voice_id": voice.voice_id,
                "category": voice.category or "",
                "language": labels.get("language", ""),
                "accent": labels.get("accent", ""),
                "gender": labels.get("gender", ""),
                "age": labels.get("age", ""),
                "description": voice.description or labels.get("description", ""),
            })
        return rows

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(column)}</th>" for column in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(row[column])}</td>" for column in self.columns)
            + "</tr>"
            for row in self.rows()
        )
        count = f"<caption>{len(self)} voice{'s' if len(self) != 1 else ''}</caption>"
        return f'<table class="xi-voices">{count}<thead><tr>{head}</tr></thead>' \
               f"<tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        lines = [f"{row['name']:<24} {row['voice_id']:<24} {row['category']}"
                 for row in self.rows()]
        return "\n".join(lines) if lines else "(no voices)"


def matches(voice: Voice, search: str) -> bool:
    """Whether ``search`` (case-insensitive) occurs in the voice's name, id, labels or text."""
    haystack = " ".join([
        voice.name or "", voice.voice_id, voice.category or "", voice.description or "",
        *(voice.labels or {}).values(),
    ]).lower()
    return search.lower() in haystack


@magics_class
class SpeechMagics(Magics):
    """The ``%%speak``, ``%xi_voices`` and ``%xi_history`` magics.

    Parameters
    ----------
    shell : InteractiveShell
        The running shell.
    client : Client, optional
        The client the magics use; by default the shared ``xiwidgets.connect()`` client.

    Attributes
    ----------
    last_player : Player or None
        The player of the last ``%%speak`` (its ``last_take`` holds the audio).
    """

    def __init__(self, shell: InteractiveShell, client: Client | None = None) -> None:
        super().__init__(shell)
        self._client_arg = client
        self.last_player: Player | None = None

    @property
    def client(self) -> Client:
        """The client the magics talk through (resolved on first use)."""
        return resolve_client(self._client_arg)

    @_magic_arguments()
    @_argument("--voice", "-v", help="Voice name or voice_id (default: the first voice).")
    @_argument("--model", "-m", help="Model id (default: the server's default model).")
    @_argument("--stability", type=float, help=f"{_span('stability')}: lower is more expressive.")
    @_argument("--similarity", type=float, help=f"{_span('similarity_boost')}: similarity boost.")
    @_argument("--style", type=float, help=f"{_span('style')}: style exaggeration.")
    @_argument("--speed", type=float, help=f"{_span('speed')}: below 1 is slower.")
    @_argument("--speaker-boost", dest="speaker_boost", action="store_true", default=None,
               help="Turn speaker boost on.")
    @_argument("--no-speaker-boost", dest="speaker_boost", action="store_false",
               help="Turn speaker boost off.")
    @_argument("--seed", type=int, help="Seed for a repeatable take.")
    @_argument("--format", dest="output_format", default=NOTEBOOK_OUTPUT_FORMAT,
               help=f"Output format (default {NOTEBOOK_OUTPUT_FORMAT}).")
    @_argument("--policy", choices=POLICIES, default="embed",
               help="What the notebook keeps of the take: embed, link or none.")
    @_cell_magic
    def speak(self, line: str, cell: str) -> None:
        """Speak the cell's text with the streaming player."""
        args = _parse_argstring(self.speak, line)
        text = cell.strip()
        if not text:
            _say_failed("%%speak", ValueError("the cell is empty: write the text to speak "
                                              "below the %%speak line"))
            return
        try:
            self._speak(text, args)
        except Exception as error:
            _say_failed("%%speak", error)

    @_magic_arguments()
    @_argument("search", nargs="*", help="Only voices whose name, labels or description match.")
    @_line_magic
    def xi_voices(self, line: str) -> VoiceTable | None:
        """Show the voices as a table (name, voice_id, category, labels)."""
        args = _parse_argstring(self.xi_voices, line)
        try:
            voices = self.client.voices.list()
        except Exception as error:
            _say_failed("%xi_voices", error)
            return None
        search = _unquote(" ".join(args.search).strip())
        chosen = [voice for voice in voices if matches(voice, search)] if search else voices
        return VoiceTable(sorted(chosen, key=lambda voice: (voice.name or "").lower()))

    @_magic_arguments()
    @_argument("--page-size", "-n", type=int, default=10, help="Rows per page.")
    @_line_magic
    def xi_history(self, line: str) -> HistoryTable | None:
        """Show the generation history as a paged table."""
        args = _parse_argstring(self.xi_history, line)
        if args.page_size < 1:
            _say_failed("%xi_history", ValueError("--page-size must be at least 1"))
            return None
        try:
            table = HistoryTable(client=self.client, page_size=args.page_size)
        except Exception as error:
            _say_failed("%xi_history", error)
            return None
        if table.last_error is not None:
            _say_failed("%xi_history", table.last_error)
        return table

    def _speak(self, text: str, args: argparse.Namespace) -> None:
        client = self.client
        voice = _unquote(args.voice) or _first_voice_id(client.voices.list())
        settings = {
            field: getattr(args, option)
            for option, field in _SETTING_OPTIONS.items()
            if getattr(args, option) is not None
        }
        stream = client.tts.stream(
            voice,
            text=text,
            model_id=_unquote(args.model),
            voice_settings=settings or None,
            output_format=args.output_format,
            seed=args.seed,
        )
        player = Player(client=client, policy=args.policy)
        self.last_player = player
        display(player)
        codec = codec_of_format(args.output_format)
        content_type = stream.content_type or (
            codec.media_type if codec is not None else "application/octet-stream"
        )
        player.play_stream(stream, content_type=content_type.split(";")[0], text=text,
                           raise_errors=True)


def _unquote(value: str | None) -> str | None:
    """Drop the quotes around a value: IPython keeps them, so ``--voice "My narrator"`` works."""
    if value and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _first_voice_id(voices: Sequence[Voice]) -> str:
    if not voices:
        raise ValueError("there are no voices: add one, or pass --voice NAME")
    return voices[0].voice_id


def _say_failed(magic: str, error: BaseException) -> None:
    """One readable line on stderr instead of a traceback."""
    print(f"{magic} failed: {describe_error(error)}", file=sys.stderr)


def register_magics(ipython: InteractiveShell, client: Client | None = None) -> SpeechMagics:
    """Register the magics on ``ipython`` (what ``%load_ext xiwidgets`` does).

    Parameters
    ----------
    ipython : InteractiveShell
        The shell to register them on.
    client : Client, optional
        Passed on to :class:`SpeechMagics`.

    Returns
    -------
    SpeechMagics
        The registered magics instance.
    """
    magics = SpeechMagics(ipython, client=client)
    ipython.register_magics(magics)
    return magics
