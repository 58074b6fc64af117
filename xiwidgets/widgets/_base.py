"""What every xiwidgets widget shares: where its client comes from and how it shows an error."""

from __future__ import annotations

import html
from collections.abc import Callable
from types import TracebackType
from typing import Any

import ipywidgets as widgets

from xiwidgets.client import Client, connect


def resolve_client(client: Client | None) -> Client:
    """Return ``client``, or the shared ``xiwidgets.connect()`` client when it is ``None``.

    Parameters
    ----------
    client : Client or None
        A client given by the user.

    Returns
    -------
    Client
        The client the widget will use. It is never synced to the browser.
    """
    if client is not None:
        return client
    return connect()


def describe_error(error: BaseException) -> str:
    """One line a notebook user understands: the cause, then the fix where there is one.

    The client's errors already read as "cause. fix." sentences; other exceptions fall back to
    their first line, or their class name when they carry no message.
    """
    text = str(error).strip() or type(error).__name__
    return " ".join(text.splitlines()[0].split())


class ErrorCard(widgets.HTML):  # type: ignore[misc]  # ipywidgets has no annotations
    """A one-line card that shows why the last action failed; hidden while there is no error."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_class("xi-error-card")
        self.layout.display = "none"

    def show(self, error: BaseException, message: str | None = None) -> None:
        """Show ``error`` as one line (cause and fix).

        Parameters
        ----------
        error : BaseException
            The failure; its class name becomes the card's tooltip.
        message : str, optional
            A line that says more than ``describe_error(error)`` (e.g. numbers the widget knows).
        """
        line = message or describe_error(error)
        self.value = (
            # Styled by xiwidgets.css with the theme's colours.
            f'<div class="xi-error" role="alert" title="{html.escape(type(error).__name__)}">'
            f'{html.escape(line)}</div>'
        )
        self.layout.display = None

    def clear(self) -> None:
        """Hide the card."""
        self.value = ""
        self.layout.display = "none"

    @property
    def text(self) -> str:
        """The line shown, as plain text ("" while hidden)."""
        if not self.value:
            return ""
        inner = self.value.split(">", 1)[1].rsplit("</div>", 1)[0]
        return html.unescape(inner)


class ClientWidgetMixin:
    """Shared plumbing: a lazily resolved client, an error card and ``.last_error``.

    The client and the last error are plain attributes, never traits, so neither is synced to the
    browser nor saved in the notebook.
    """

    _client: Client | None = None
    _client_arg: Client | None = None
    last_error: BaseException | None = None

    def _init_client(self, client: Client | None) -> None:
        self._client_arg = client
        self._client = None
        self.last_error = None
        self.error_card = ErrorCard()

    @property
    def client(self) -> Client:
        """The client this widget talks through (resolved on first use)."""
        if self._client is None:
            self._client = resolve_client(self._client_arg)
        return self._client

    def _reporting(
        self,
        explain: Callable[[Exception], str | None] | None = None,
        reraise: bool = False,
    ) -> _Reporting:
        """Run a user action: an ``Exception`` is kept and shown on the card instead of raised.

        Button callbacks have nowhere to raise to (the exception would only reach the kernel
        log), so every action reports through the card, and programmatic calls behave the same.
        The card is cleared when the block finishes without an error. A failed block ends at the
        failing line and the code after the ``with`` runs, so the success path goes inside it.

        Parameters
        ----------
        explain : callable, optional
            Returns the card's line for an error (``None``: ``describe_error(error)``), for a
            widget that knows more than the exception says (e.g. the numbers of a quota).
        reraise : bool, default False
            Raise the error again once it is shown, for a caller that reports it too.
        """
        return _Reporting(self, explain, reraise)

    def _report(self, error: BaseException, message: str | None = None) -> None:
        """Keep ``error`` on ``.last_error`` and show it on the card."""
        self.last_error = error
        self.error_card.show(error, message)

    def _clear_error(self) -> None:
        self.last_error = None
        self.error_card.clear()


class _Reporting:
    """The ``with`` block of ``ClientWidgetMixin._reporting``.

    A class rather than a generator, because its ``__exit__`` says in its type that it
    swallows exceptions: type checkers then know that the code after the block runs after a
    failure too.
    """

    def __init__(
        self,
        widget: ClientWidgetMixin,
        explain: Callable[[Exception], str | None] | None,
        reraise: bool,
    ) -> None:
        self._widget = widget
        self._explain = explain
        self._reraise = reraise

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if error is None:
            self._widget._clear_error()
            return False
        if not isinstance(error, Exception):  # KeyboardInterrupt and the like go through
            return False
        self._widget._report(error, self._explain(error) if self._explain is not None else None)
        return not self._reraise
