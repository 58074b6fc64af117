"""VoiceMaker: add a voice from audio samples (uploaded or made in the notebook), or delete one.

A new or deleted voice is announced with ``notify_voices_changed()`` so that every VoicePicker in
the notebook refreshes its list.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import ipywidgets as widgets

from xiwidgets.widgets._base import ClientWidgetMixin
from xiwidgets.widgets._frontend import styled
from xiwidgets.widgets._new_voice import NewVoiceMixin, labelled
from xiwidgets.widgets.voices import notify_voices_changed

if TYPE_CHECKING:
    from xiwidgets.client import Client
    from xiwidgets.client.types import Voice

GENDERS = ("", "female", "male", "neutral")
AGES = ("", "young", "middle_aged", "old")
# Voices the user cannot delete: they belong to the service, not to the account.
_BUILT_IN_CATEGORIES = {"premade", "famous", "high_quality"}


class _Recording(Protocol):
    """A take, such as ``client.tts.convert``'s result: anything with ``audio`` bytes."""

    @property
    def audio(self) -> bytes:
        """The recording's file bytes."""


# What ``VoiceMaker.add_samples`` takes: audio bytes, a file path, a (name, bytes) pair or a take.
VoiceSample: TypeAlias = (
    bytes | bytearray | memoryview | str | Path | tuple[str, bytes] | _Recording
)

_MAGIC_EXTENSIONS = (
    (b"RIFF", ".wav"),
    (b"ID3", ".mp3"),
    (b"OggS", ".ogg"),
    (b"fLaC", ".flac"),
    (b"\x1aE\xdf\xa3", ".webm"),
)


def _sample_name(data: bytes, index: int) -> str:
    """A file name whose extension matches the bytes, so the server can decode them."""
    for magic, extension in _MAGIC_EXTENSIONS:
        if data.startswith(magic):
            return f"sample-{index}{extension}"
    if data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return f"sample-{index}.mp3"
    if data[4:8] == b"ftyp":
        return f"sample-{index}.m4a"
    return f"sample-{index}.bin"


def _as_named_bytes(sample: object, index: int) -> tuple[str, bytes]:
    """Turn one accepted sample form into ``(file name, bytes)``."""
    if isinstance(sample, tuple):
        name, data = sample
        return str(name), bytes(data)
    if isinstance(sample, (bytes, bytearray, memoryview)):
        data = bytes(sample)
        return _sample_name(data, index), data
    if isinstance(sample, (str, Path)):
        path = Path(sample)
        return path.name, path.read_bytes()
    audio = getattr(sample, "audio", None)  # a Take from client.tts.convert
    if isinstance(audio, (bytes, bytearray, memoryview)):
        data = bytes(audio)
        return _sample_name(data, index), data
    raise TypeError(
        f"cannot use a {type(sample).__name__} as a voice sample: "
        "pass bytes, a file path, a (name, bytes) pair or a take"
    )


class VoiceMaker(NewVoiceMixin, ClientWidgetMixin, widgets.VBox):  # type: ignore[misc]  # untyped base
    """Add a voice from audio samples, or delete one of your voices.

    Parameters
    ----------
    client : Client, optional
        The client to use; by default the shared ``xiwidgets.connect()`` client.

    Attributes
    ----------
    voice : Voice or None
        The voice made last.
    last_error : Exception or None
        The error of the last failed action (also shown in the widget's error card).
    """

    def __init__(self, client: Client | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_class("xi-voice-maker")
        self._init_client(client)
        self._init_new_voice()
        self._extra_samples: list[tuple[str, bytes]] = []
        self._deleting: str | None = None

        self.name_box = labelled("Name", widgets.Text(placeholder="My narrator"))
        self.name_box.add_class("xi-maker-name")
        self.description_box = labelled(
            "Description", widgets.Textarea(placeholder="Warm, calm, for tutorials")
        )
        self.accent_box = labelled("Accent", widgets.Text(placeholder="american"))
        self.gender_box = labelled("Gender", widgets.Dropdown(options=GENDERS))
        self.age_box = labelled("Age", widgets.Dropdown(options=AGES))
        self.language_box = labelled("Language", widgets.Text(placeholder="en"))
        self.use_case_box = labelled("Use case", widgets.Text(placeholder="narration"))
        self.upload = widgets.FileUpload(
            accept="audio/*,.wav,.mp3,.ogg,.flac,.m4a,.webm", multiple=True,
            description="Samples",
        )
        self.upload.add_class("xi-maker-upload")
        self.samples_label = widgets.Label()
        self.clear_button = widgets.Button(description="Clear samples")
        self.create_button = widgets.Button(description="Add voice", button_style="primary")
        self.create_button.add_class("xi-maker-create")
        self.status = widgets.HTML()
        self.status.add_class("xi-maker-status")

        self.delete_picker = widgets.Dropdown(description="Your voice")
        self.delete_picker.add_class("xi-maker-delete-picker")
        self.delete_button = widgets.Button(description="Delete voice")
        self.delete_button.add_class("xi-maker-delete")
        self.confirm_button = widgets.Button(description="Yes, delete", button_style="danger")
        self.confirm_button.add_class("xi-maker-confirm")
        self.cancel_button = widgets.Button(description="No")
        self.confirm_box = widgets.HBox(
            [widgets.Label("Delete for good?"), self.confirm_button, self.cancel_button],
            layout=widgets.Layout(display="none"),
        )

        self.upload.observe(lambda _: self._show_samples(), names="value")
        self.clear_button.on_click(lambda _: self.clear_samples())
        self.create_button.on_click(lambda _: self.create())
        self.delete_button.on_click(lambda _: self.request_delete())
        self.confirm_button.on_click(lambda _: self.confirm_delete())
        self.cancel_button.on_click(lambda _: self.cancel_delete())

        self.children = [
            widgets.HTML("<b>Make a voice</b> from a few clean recordings of one speaker"),
            self.name_box,
            self.description_box,
            widgets.HBox([self.accent_box, self.gender_box, self.age_box]),
            widgets.HBox([self.language_box, self.use_case_box]),
            widgets.HBox([self.upload, self.samples_label, self.clear_button]),
            self.create_button,
            self.error_card,
            self.status,
            widgets.HTML("<b>Delete a voice</b> (premade voices cannot be deleted)"),
            widgets.HBox([self.delete_picker, self.delete_button, self.confirm_box]),
        ]
        styled(self)
        self._show_samples()
        with self._reporting():
            self._load_own_voices()

    # -- public API -------------------------------------------------------------------------

    @property
    def labels(self) -> dict[str, str]:
        """The labels filled in (accent, gender, age, language, use_case); blanks left out."""
        values = {
            "accent": self.accent_box.value,
            "gender": self.gender_box.value,
            "age": self.age_box.value,
            "language": self.language_box.value,
            "use_case": self.use_case_box.value,
        }
        return {key: value.strip() for key, value in values.items() if value and value.strip()}

    @property
    def samples(self) -> list[tuple[str, bytes]]:
        """The samples the voice will be made from: uploaded files, then ``add_samples`` ones."""
        uploaded = [(file["name"], bytes(file["content"])) for file in self.upload.value]
        return uploaded + self._extra_samples

    def add_samples(self, samples: VoiceSample | Iterable[VoiceSample]) -> None:
        """Add audio made elsewhere in the notebook (bytes, file paths, takes) as samples.

        Parameters
        ----------
        samples : bytes, path, (name, bytes), take, or a list of these
            A take is anything with an ``audio`` bytes attribute, such as the result of
            ``client.tts.convert``.
        """
        if isinstance(samples, (list, tuple)) and not _is_named_pair(samples):
            batch = list(samples)
        else:
            batch = [samples]
        try:
            named = [
                _as_named_bytes(sample, len(self.samples) + offset + 1)
                for offset, sample in enumerate(batch)
            ]
        except (OSError, TypeError) as error:
            self._report(error)
            return
        self._extra_samples.extend(named)
        self._show_samples()

    def clear_samples(self) -> None:
        """Forget every sample (uploaded and added)."""
        self._extra_samples.clear()
        self.upload.value = ()
        self._show_samples()

    # Called with the Voice once it is added.
    on_created = NewVoiceMixin._on_new_voice

    def create(self) -> Voice | None:
        """Add the voice (what the "Add voice" button does).

        Returns
        -------
        Voice or None
            The new voice, or None when it could not be made (the reason is on the error card and
            in ``last_error``; the name, labels and samples are kept so nothing is lost).
        """
        name = self.name_box.value.strip()
        if not name:
            self._report(ValueError("the voice needs a name: type one in the Name box"))
            return None
        samples = self.samples
        if not samples:
            self._report(
                ValueError("the voice needs at least one audio sample: upload a file or call "
                           "add_samples(...)")
            )
            return None
        self.status.value = f"Adding {html.escape(name)}…"
        with self._reporting():
            voice = self.client.voices.add(
                name,
                files=samples,
                description=self.description_box.value.strip() or None,
                labels=self.labels or None,
            )
        if self.last_error is not None:
            self.status.value = ""
            return None
        self._keep_new_voice(voice, "Added", name)
        self.clear_samples()
        self._voices_changed()
        self._new_voice_callbacks(voice)
        return voice

    def request_delete(self, voice_id: str | None = None) -> None:
        """Ask "Delete for good?" about the chosen voice (first click); nothing is deleted yet."""
        if voice_id is not None:
            self.delete_picker.value = voice_id
        if not self.delete_picker.value:
            self._report(ValueError("there is no voice of yours to delete"))
            return
        self._deleting = self.delete_picker.value
        self.confirm_box.layout.display = None
        self.delete_button.layout.display = "none"

    def cancel_delete(self) -> None:
        """Answer "no" to the pending question."""
        self._deleting = None
        self.confirm_box.layout.display = "none"
        self.delete_button.layout.display = None

    def confirm_delete(self) -> bool:
        """Delete the voice asked about (second click).

        Returns
        -------
        bool
            True when the voice was deleted.
        """
        voice_id = self._deleting
        if voice_id is None:
            return False
        self.cancel_delete()
        with self._reporting():
            self.client.voices.delete(voice_id)
        if self.last_error is not None:
            return False
        self.status.value = f"Deleted voice <code>{html.escape(voice_id)}</code>"
        self._voices_changed()
        return True

    # -- internals --------------------------------------------------------------------------

    def _show_samples(self) -> None:
        names = [name for name, _ in self.samples]
        if not names:
            self.samples_label.value = "no samples yet"
        else:
            self.samples_label.value = f"{len(names)} sample(s): " + ", ".join(names)
        self.clear_button.disabled = not names

    def _load_own_voices(self) -> None:
        own = [
            voice
            for voice in self.client.voices.list()
            if (voice.category or "") not in _BUILT_IN_CATEGORIES
        ]
        own.sort(key=lambda voice: (voice.name or voice.voice_id).lower())
        self.delete_picker.options = [(voice.name or voice.voice_id, voice.voice_id)
                                      for voice in own]
        self.delete_button.disabled = not own

    def _voices_changed(self) -> None:
        with self._reporting():
            self._load_own_voices()
        notify_voices_changed()


def _is_named_pair(samples: tuple[object, ...] | list[object]) -> bool:
    return (
        isinstance(samples, tuple)
        and len(samples) == 2
        and isinstance(samples[0], str)
        and isinstance(samples[1], (bytes, bytearray, memoryview))
    )


__all__ = ["VoiceMaker"]
