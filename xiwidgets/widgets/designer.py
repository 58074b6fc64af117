"""VoiceDesigner: describe a voice, hear three designs of it, keep the one you like.

A kept voice is announced with ``notify_voices_changed()`` so that every VoicePicker in the
notebook lists it at once.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from xiwidgets.widgets._base import ClientWidgetMixin
from xiwidgets.widgets._frontend import styled
from xiwidgets.widgets._new_voice import NewVoiceMixin, labelled
from xiwidgets.widgets.voices import notify_voices_changed

if TYPE_CHECKING:
    from xiwidgets.client import Client, Voice, VoiceDesignResult

PREVIEWS = 3
# The API's limits on a description and on a preview text.
DESCRIPTION_LENGTH = (20, 1000)
TEXT_LENGTH = (100, 1000)


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
        The last design (its three previews and the text they read).
    voice : Voice or None
        The voice saved last.
    last_error : Exception or None
        The error of the last failed action (also shown in the widget's error card).
    """

    def __init__(self, client: Client | None = None, description: str = "",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_class("xi-voice-designer")
        self._init_client(client)
        self.design: VoiceDesignResult | None = None
        self._init_new_voice()

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

        self.generate_button.on_click(lambda _: self.generate())
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

    def generate(self) -> VoiceDesignResult | None:
        """Design three voices from the description (what the "Generate" button does).

        Returns
        -------
        VoiceDesignResult or None
            The design, or None when it could not be made (the reason is on the error card
            and in ``last_error``; what was typed is kept).
        """
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
        self.status.value = "Designing three voices…"
        self.generate_button.disabled = True
        try:
            with self._reporting():
                design = self.client.voice_design.design(description, text=text)
        finally:
            self.generate_button.disabled = False
        if self.last_error is not None:
            self.status.value = ""
            return None
        self.design = design
        for player, preview in zip(self.players, design.previews, strict=False):
            player.value = preview.audio
        self.choice.index = 0
        self.previews_box.layout.display = None
        self.status.value = (
            f"Three designs reading: <i>{html.escape(design.text)}</i> "
            "Play them, pick one and save it."
        )
        return design

    def save(self) -> Voice | None:
        """Save the chosen preview as a voice (what the "Save voice" button does).

        Returns
        -------
        Voice or None
            The new voice, or None when it could not be saved (the reason is on the error
            card and in ``last_error``).
        """
        if self.design is None or not self.design.previews:
            self._report(ValueError("generate the previews first, then pick one to save"))
            return None
        name = self.name_box.value.strip()
        if not name:
            self._report(ValueError("the voice needs a name: type one in the Name box"))
            return None
        chosen = self.design.previews[self.choice.index or 0]
        heard = [p.generated_voice_id for p in self.design.previews if p is not chosen]
        with self._reporting():
            voice = self.client.voice_design.create(
                name, self.description_box.value.strip(), chosen.generated_voice_id,
                played_not_selected_voice_ids=heard,
            )
        if self.last_error is not None:
            return None
        self._keep_new_voice(voice, "Saved", name, ": every voice picker lists it now.")
        notify_voices_changed()
        self._new_voice_callbacks(voice)
        return voice


__all__ = ["VoiceDesigner"]
