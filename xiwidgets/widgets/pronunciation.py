"""The pronunciation editor: a table of rules (alias or phonemes), add and remove, and "say"
to hear a word with its rule applied.

The editor keeps one pronunciation dictionary (made with its first rule, or given); every added
or removed rule makes a new version, and :attr:`PronunciationEditor.locators` names the latest,
so a take made after an edit is said with the edit. A Studio uses it once attached
(``studio.attach_pronunciation(editor)``).
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import traitlets

from xiwidgets.client import Client
from xiwidgets.client.pronunciation import PronunciationRule
from xiwidgets.client.voices import VoiceRef
from xiwidgets.formats import NOTEBOOK_OUTPUT_FORMAT, codec_of_format
from xiwidgets.widgets._base import ClientWidgetMixin
from xiwidgets.widgets._frontend import styled
from xiwidgets.widgets.player import Player

# What the "kind" dropdown offers: (label, alphabet or None for an alias).
KINDS = (("said as", None), ("IPA", "ipa"), ("CMU Arpabet", "cmu-arpabet"))


class PronunciationEditor(ClientWidgetMixin, widgets.VBox):  # type: ignore[misc]  # untyped base
    """Edit the rules of one pronunciation dictionary and hear them.

    Parameters
    ----------
    client : Client, optional
        ``xiwidgets.connect()`` when omitted.
    dictionary_id : str, optional
        Edit this dictionary; a new one (called ``name``) is made with the first rule otherwise.
    name : str, default "Pronunciations"
        The new dictionary's name.
    voice : Voice or str, optional
        The voice "say" speaks with (a Studio that attaches the editor lends its own).

    Attributes
    ----------
    player : Player
        Plays what "say" speaks.
    last_error : Exception or None
        Why the last action failed (also shown on the error card).
    """

    dictionary_id = traitlets.Unicode("", help="The dictionary edited ('' before the first rule)."
                                      ).tag(sync=True)
    version_id = traitlets.Unicode("", help="Its latest version.").tag(sync=True)
    rule_count = traitlets.Int(0, help="Rules in the latest version.").tag(sync=True)
    status = traitlets.Unicode("", help="One line saying what the editor did last.").tag(sync=True)

    def __init__(self, client: Client | None = None, dictionary_id: str | None = None,
                 name: str = "Pronunciations", voice: VoiceRef | None = None,
                 **kwargs: Any) -> None:
        self._init_client(client)
        self.name = name
        self.voice: VoiceRef | None = voice
        self._rules: list[PronunciationRule] = []
        self.player = Player(client=self.client, policy="none")
        self._word = widgets.Text(placeholder="word", tooltip="The word the rule replaces")
        self._word.add_class("xi-rule-word")
        self._kind = widgets.Dropdown(options=[(label, index) for index, (label, _) in
                                               enumerate(KINDS)], value=0,
                                      tooltip="Say it as other words, or as phonemes")
        self._kind.add_class("xi-rule-kind")
        self._said = widgets.Text(placeholder="said as (words or phonemes)",
                                  tooltip="The alias, or the phonemes in the chosen alphabet")
        self._said.add_class("xi-rule-said")
        self._add_button = widgets.Button(description="Add", icon="plus")
        self._add_button.add_class("xi-rule-add")
        self._add_button.on_click(lambda _button: self._add_from_inputs())
        self._table = widgets.VBox()
        self._table.add_class("xi-rules")
        self._status_line = widgets.HTML()
        self._status_line.add_class("xi-status")
        super().__init__(**kwargs)
        self.add_class("xi-pronunciation")
        self.children = [
            self._table,
            widgets.HBox([self._word, self._kind, self._said, self._add_button]),
            self._status_line,
            self.error_card,
            self.player.view,
        ]
        styled(self)
        if dictionary_id:
            with self._reporting():
                self._load(dictionary_id)
        self._show_rules()

    # -- public API ---------------------------------------------------------------------------

    @property
    def rules(self) -> tuple[PronunciationRule, ...]:
        """The rules of the latest version, in order."""
        return tuple(self._rules)

    @property
    def locators(self) -> list[dict[str, str]]:
        """``pronunciation_dictionary_locators`` naming the latest version ([] without rules)."""
        if not self.dictionary_id:
            return []
        return [{"pronunciation_dictionary_id": self.dictionary_id,
                 "version_id": self.version_id}]

    def add_rule(self, word: str, said_as: str, alphabet: str | None = None) -> None:
        """Add (or replace) the rule for ``word``: said as other words, or as phonemes.

        Parameters
        ----------
        word : str
            What the rule replaces.
        said_as : str
            The alias, or the phonemes.
        alphabet : {"ipa", "cmu-arpabet"}, optional
            For phonemes; ``None`` makes an alias rule.
        """
        with self._reporting():
            if not word.strip() or not said_as.strip():
                raise ValueError("A rule needs a word and what to say instead.")
            rule = (PronunciationRule.said_as(word.strip(), said_as.strip()) if alphabet is None
                    else PronunciationRule.phonemes(word.strip(), said_as.strip(), alphabet))
            if not self.dictionary_id:
                made = self.client.pronunciation.create_from_rules([rule], name=self.name)
                self.dictionary_id = made.id
                self._set_version(made.latest_version_id)
            else:
                self._set_version(self.client.pronunciation.rules.add(
                    self.dictionary_id, [rule]).version_id)
            self.status = f"added {word.strip()!r}"

    def remove_rule(self, word: str) -> None:
        """Remove the rule for ``word`` (a new version)."""
        with self._reporting():
            if not self.dictionary_id:
                raise ValueError(f"There is no rule for {word!r}.")
            self._set_version(self.client.pronunciation.rules.remove(
                self.dictionary_id, [word]).version_id)
            self.status = f"removed {word!r}"

    def say(self, word: str) -> bytes | None:
        """Speak ``word`` with the rules applied and play it.

        Returns
        -------
        bytes or None
            The audio (``None`` when it failed: see the error card).
        """
        audio: bytes | None = None
        with self._reporting():
            if self.voice is None:
                raise ValueError("No voice to say it with: pass voice=... or attach the "
                                 "editor to a Studio.")
            take = self.client.tts.convert(self.voice, text=word,
                                           output_format=NOTEBOOK_OUTPUT_FORMAT,
                                           pronunciation_dictionary_locators=self.locators)
            codec = codec_of_format(NOTEBOOK_OUTPUT_FORMAT)
            audio = self.player.play_bytes(
                take.audio, content_type=codec.media_type if codec else "audio/mpeg", text=word)
            self.status = f"said {word!r}"
        return audio

    # -- internals ----------------------------------------------------------------------------

    def _load(self, dictionary_id: str) -> None:
        found = self.client.pronunciation.get(dictionary_id)
        self.dictionary_id = found.id
        self.version_id = found.latest_version_id
        self._rules = list(found.rules)
        self.rule_count = len(self._rules)

    def _set_version(self, version_id: str) -> None:
        self._load(self.dictionary_id)
        self.version_id = version_id

    def _add_from_inputs(self) -> None:
        alphabet = KINDS[self._kind.value][1]
        self.add_rule(self._word.value, self._said.value, alphabet)
        if self.last_error is None:
            self._word.value = self._said.value = ""

    @traitlets.observe("rule_count", "version_id")
    def _show_rules(self, _change: traitlets.Bunch | None = None) -> None:
        rows = []
        for rule in self._rules:
            said = rule.alias if rule.type == "alias" else f"/{rule.phoneme}/ ({rule.alphabet})"
            label = widgets.HTML(f"<b>{html.escape(rule.string_to_replace)}</b> → "
                                 f"{html.escape(said or '')}")
            say = widgets.Button(description="Say", icon="volume-up",
                                 tooltip=f"Say {rule.string_to_replace!r} with its rule")
            say.add_class("xi-rule-say")
            say.on_click(lambda _b, word=rule.string_to_replace: self.say(word))
            remove = widgets.Button(description="Remove", icon="trash",
                                    tooltip=f"Remove the rule for {rule.string_to_replace!r}")
            remove.add_class("xi-rule-remove")
            remove.on_click(lambda _b, word=rule.string_to_replace: self.remove_rule(word))
            row = widgets.HBox([label, say, remove])
            row.add_class("xi-rule")
            rows.append(row)
        self._table.children = rows

    @traitlets.observe("status")
    def _show_status(self, _change: traitlets.Bunch) -> None:
        self._status_line.value = html.escape(self.status)
