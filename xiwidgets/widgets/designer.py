"""VoiceDesigner: describe a voice, hear three designs of it, keep the one you like.

Generate asks for the design with ``stream_previews`` (the server answers at once with the three
previews' ids and no audio), then fetches each preview's audio from its stream endpoint, one
after another, and puts it into its player the moment it is complete: the first is playable
after about one preview's synthesis time instead of all three's. A click runs the design in a
background thread, so the kernel stays responsive; ``generate()`` from code runs it in the
calling thread and returns the finished design, and ``wait()`` waits for a click's. Only the
design started last touches the players: a newer Generate supersedes one under way, whose later
previews are dropped. A preview can be saved as soon as the server has answered, before its
audio has come (the server then makes it for the save).

A kept voice is announced with ``notify_voices_changed()`` so that every VoicePicker in the
notebook lists it at once.
"""

from __future__ import annotations

import contextlib
import html
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from xiwidgets.widgets._audio import duration
from xiwidgets.widgets._base import ClientWidgetMixin
from xiwidgets.widgets._frontend import styled
from xiwidgets.widgets._new_voice import NewVoiceMixin, labelled
from xiwidgets.widgets.voices import notify_voices_changed

if TYPE_CHECKING:
    from xiwidgets.client import Client, Voice, VoiceDesignResult
    from xiwidgets.client.voice_design import VoicePreview

PREVIEWS = 3
# The API's limits on a description and on a preview text.
DESCRIPTION_LENGTH = (20, 1000)
TEXT_LENGTH = (100, 1000)
# What every preview stream sends, the hosted API's and the local server's alike.
STREAM_MEDIA_TYPE = "audio/mpeg"


class _SupersededError(Exception):
    """A design's run noticed that a newer Generate replaced it: it stops without a word."""


class _DesignRun:
    """One Generate: the widget's players are its own only while it is the widget's run."""

    def __init__(self) -> None:
        self.superseded = threading.Event()


def ready_line(ready: int, total: int) -> str:
    """How many previews are ready, for the status line: "Preview 1 of 3 ready",
    "Previews 1–2 of 3 ready" or "No preview ready"."""
    if ready == 0:
        return "No preview ready"
    if ready == 1:
        return f"Preview 1 of {total} ready"
    return f"Previews 1–{ready} of {total} ready"


class VoiceDesigner(NewVoiceMixin, ClientWidgetMixin, widgets.VBox):  # type: ignore[misc]  # untyped base
    """Design a voice from a description, play the three previews, save one.

    Parameters
    ----------
    client : Client, optional
        The client to use; by default the shared ``xiwidgets.connect()`` client.
    description : str, optional
        A description to start from.

    Attributes
    ----------
    design : VoiceDesignResult or None
        The last design (its three previews and the text they read); while its previews are
        being made, those not made yet have empty ``audio``. ``None`` until the server has
        answered a Generate.
    voice : Voice or None
        The voice saved last.
    last_error : Exception or None
        The error of the last failed action (also shown in the widget's error card).

    Notes
    -----
    Observers of the players' ``value`` run in the thread that makes the design (a worker
    thread after a click), while the widget holds its lock: they may call the widget's
    methods, but must not wait for another thread that does.
    """

    def __init__(self, client: Client | None = None, description: str = "",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_class("xi-voice-designer")
        self._init_client(client)
        self.design: VoiceDesignResult | None = None
        self._init_new_voice()
        # Re-entrant: an observer of a player, run while the lock is held, may call generate().
        self._lock = threading.RLock()
        self._run: _DesignRun | None = None
        self._workers: list[threading.Thread] = []
        # The "Saved ..." line of a voice saved while its design's previews were being made,
        # kept on the status line below the progress.
        self._saved_line = ""

        self.description_box = labelled("Description", widgets.Textarea(
            value=description,
            placeholder="A deep, slow, elderly British man with a warm voice",
        ))
        self.description_box.add_class("xi-designer-description")
        self.text_box = labelled("Text", widgets.Textarea(
            placeholder="Optional: 100–1000 characters for the previews to read "
                        "(left empty, one that suits the description is chosen)",
        ))
        self.text_box.add_class("xi-designer-text")
        self.generate_button = widgets.Button(description="Generate", button_style="primary")
        self.generate_button.add_class("xi-designer-generate")
        self.status = widgets.HTML()
        self.status.add_class("xi-designer-status")
        self.players = [
            widgets.Audio(value=b"", format="mpeg", autoplay=False, controls=True,
                          tooltip=f"Preview {index + 1}")
            for index in range(PREVIEWS)
        ]
        self.choice = widgets.RadioButtons(
            options=[f"Preview {index + 1}" for index in range(PREVIEWS)],
            description="Keep", style={"description_width": "90px"},
        )
        self.choice.add_class("xi-designer-choice")
        self.name_box = labelled("Name", widgets.Text(placeholder="My designed voice"))
        self.name_box.add_class("xi-designer-name")
        self.save_button = widgets.Button(description="Save voice")
        self.save_button.add_class("xi-designer-save")
        rows = [
            widgets.HBox([widgets.Label(f"Preview {index + 1}"), player])
            for index, player in enumerate(self.players)
        ]
        self.previews_box = widgets.VBox(
            [*rows, self.choice, widgets.HBox([self.name_box, self.save_button])],
            layout=widgets.Layout(display="none"),
        )
        self.previews_box.add_class("xi-designer-previews")

        self.generate_button.on_click(self._on_generate_click)
        self.save_button.on_click(lambda _: self.save())

        self.children = [
            widgets.HTML("<b>Design a voice</b> from a description: gender, age, accent, "
                         "pitch, pace, tone"),
            self.description_box,
            self.text_box,
            self.generate_button,
            self.error_card,
            self.status,
            self.previews_box,
        ]
        styled(self)

    # -- public API -------------------------------------------------------------------------

    # Called with the Voice once a design is saved.
    on_saved = NewVoiceMixin._on_new_voice

    def generate(self, wait: bool = True) -> VoiceDesignResult | None:
        """Design three voices from the description (what the "Generate" button does).

        The previews are made one after another, preview 1 first; each goes into its player
        the moment its audio is complete, and the status line counts them. A design under way
        (e.g. started by a click) is superseded: none of its later previews reaches a player.

        Parameters
        ----------
        wait : bool, default True
            Make the design in the calling thread and return it when every preview is made
            (for cells and scripts; the players fill one by one all the same). The button
            passes ``False``: the design is made in a background thread, the call returns at
            once, and :meth:`wait` waits for it.

        Returns
        -------
        VoiceDesignResult or None
            With ``wait``, the design with every preview's audio; ``None`` without ``wait``,
            or when it could not be made (the reason is on the error card and in
            ``last_error``; what was typed is kept, and so are the previews made before the
            failure).
        """
        request = self._request()
        if request is None:
            return None
        run = self._start_run()
        if wait:
            return self._design(run, *request)
        worker = threading.Thread(target=self._design, args=(run, *request), daemon=True,
                                  name="xiwidgets-voice-design")
        with self._lock:
            self._workers = [*(w for w in self._workers if w.is_alive()), worker]
        worker.start()
        return None

    @property
    def busy(self) -> bool:
        """Whether a design is being made (Generate is disabled meanwhile)."""
        return self._run is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the designs started in the background (by a click, or ``generate(wait=
        False)``) have finished, superseded ones included.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait at most for each; without it, as long as they take.

        Returns
        -------
        bool
            True when no background design is running any more.
        """
        with self._lock:
            workers = [w for w in self._workers if w is not threading.current_thread()]
        for worker in workers:
            worker.join(timeout)
        return not any(worker.is_alive() for worker in workers)

    def save(self) -> Voice | None:
        """Save the chosen preview as a voice (what the "Save voice" button does).

        A preview can be saved as soon as the server has answered Generate, before its audio
        has reached its player: the server then makes the voice from it all the same.

        Returns
        -------
        Voice or None
            The new voice, or None when it could not be saved (the reason is on the error
            card and in ``last_error``).
        """
        design = self.design
        if design is None or not design.previews:
            self._report(ValueError(
                "the voices are still being designed: pick one to save once the previews show"
                if self.busy else "generate the previews first, then pick one to save"
            ))
            return None
        name = self.name_box.value.strip()
        if not name:
            self._report(ValueError("the voice needs a name: type one in the Name box"))
            return None
        chosen = design.previews[self.choice.index or 0]
        heard = [p.generated_voice_id for p in design.previews if p is not chosen]
        with self._reporting():
            voice = self.client.voice_design.create(
                name, self.description_box.value.strip(), chosen.generated_voice_id,
                played_not_selected_voice_ids=heard,
            )
        if self.last_error is not None:
            return None
        with self._lock:
            self._keep_new_voice(voice, "Saved", name, ": every voice picker lists it now.")
            if self.busy:
                self._saved_line = self.status.value
        notify_voices_changed()
        self._new_voice_callbacks(voice)
        return voice

    # -- the design's run -------------------------------------------------------------------

    def _on_generate_click(self, _button: widgets.Button) -> None:
        # A click that left the browser before Generate was disabled starts nothing.
        if not self.busy:
            self.generate(wait=False)

    def _request(self) -> tuple[str, str | None] | None:
        """The description and text to design from, or None when either is out of bounds
        (explained on the error card before anything is sent)."""
        description = self.description_box.value.strip()
        low, high = DESCRIPTION_LENGTH
        if not low <= len(description) <= high:
            self._report(ValueError(
                f"the description has {len(description)} characters; describe the voice in "
                f"{low} to {high} (gender, age, accent, pitch, pace, tone)"
            ))
            return None
        text = self.text_box.value.strip() or None
        low, high = TEXT_LENGTH
        if text is not None and not low <= len(text) <= high:
            self._report(ValueError(
                f"the text has {len(text)} characters; give {low} to {high}, or leave it "
                "empty to have one chosen"
            ))
            return None
        return description, text

    def _start_run(self) -> _DesignRun:
        """Make a new run the widget's own, superseding the one under way, and clear the last
        design from the widget."""
        run = _DesignRun()
        with self._lock:
            if self._run is not None:
                self._run.superseded.set()
            self._run = run
            self._clear_error()
            self.design = None
            self._saved_line = ""
            for player in self.players:
                player.value = b""
            self.previews_box.layout.display = "none"
            self.status.value = "Designing three voices…"
            self.generate_button.disabled = True
        return run

    @contextlib.contextmanager
    def _owning(self, run: _DesignRun) -> Iterator[None]:
        """Hold the widget for ``run``'s update; raise ``_SupersededError`` when a newer run has it.

        The check and the update happen under one lock, so a Generate clicked in between
        cannot see a preview of the run it superseded land after it cleared the players.
        """
        with self._lock:
            if run is not self._run:
                raise _SupersededError
            yield

    def _design(self, run: _DesignRun, description: str,
                text: str | None) -> VoiceDesignResult | None:
        """Make ``run``'s design and its previews, showing each as it is made."""
        try:
            return self._make_previews(run, description, text)
        except _SupersededError:
            return None
        except Exception as error:  # every failure is the user's to read, on the card
            with contextlib.suppress(_SupersededError), self._owning(run):
                self._report(error)
                if self.design is None:
                    self.status.value = ""
                else:
                    ready = sum(1 for preview in self.design.previews if preview.audio)
                    self._show(f"{ready_line(ready, len(self.design.previews))}; preview "
                               f"{ready + 1} could not be made.")
            return None
        finally:
            with self._lock:
                if run is self._run:
                    self._run = None
                    self.generate_button.disabled = False

    def _make_previews(self, run: _DesignRun, description: str,
                       text: str | None) -> VoiceDesignResult:
        design = self.client.voice_design.design(description, text=text, stream_previews=True)
        previews = list(design.previews[:len(self.players)])
        total = len(previews)
        if not total:
            raise ValueError("the server designed no voice from this description: "
                             "describe the voice differently and generate again")
        made = replace(design, previews=tuple(previews))
        with self._owning(run):
            self.design = made
            self.choice.index = 0
            self.previews_box.layout.display = None
            self._show(f"Making preview 1 of {total}…")
        for index, preview in enumerate(previews):
            # A server that ignored stream_previews sent the audio with the design.
            previews[index] = preview if preview.audio else self._fetch(run, preview)
            made = replace(design, previews=tuple(previews))
            with self._owning(run):
                self.design = made
                if index + 1 < total:
                    self._show(f"{ready_line(index + 1, total)}; making {index + 2}…")
                else:
                    self._show(f"Three designs reading: <i>{html.escape(design.text)}</i> "
                               "Play them, pick one and save it.")
                # Last: the player's observers may start a new design, which this one must
                # then not overwrite.
                self.players[index].value = previews[index].audio
        return made

    def _fetch(self, run: _DesignRun, preview: VoicePreview) -> VoicePreview:
        """``preview`` with its audio, read from its stream (the server makes it on the first
        stream); given up as soon as ``run`` is superseded."""
        if run.superseded.is_set():
            raise _SupersededError
        chunks = self.client.voice_design.preview.stream(preview.generated_voice_id)
        pieces = []
        try:
            for chunk in chunks:
                if run.superseded.is_set():
                    raise _SupersededError
                pieces.append(chunk)
        finally:
            chunks.close()  # closes the connection of a stream left half-read
        audio = b"".join(pieces)
        return replace(preview, audio=audio, media_type=STREAM_MEDIA_TYPE,
                       duration_secs=preview.duration_secs or duration(audio, STREAM_MEDIA_TYPE))

    def _show(self, line: str) -> None:
        """Put the run's progress ``line`` (HTML) on the status line, with the "Saved ..."
        line of a voice saved meanwhile."""
        self.status.value = f"{line} {self._saved_line}" if self._saved_line else line


__all__ = ["VoiceDesigner"]
