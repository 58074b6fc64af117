"""Which text-to-speech model a request means, as a domain answer or a domain error."""

from __future__ import annotations

from xiwidgets.server.catalog import DEFAULT_MODEL_ID, Model, get_model
from xiwidgets.server.domain_errors import ModelNotFoundError, UnsupportedModelError


def tts_model(model_id: str | None, websocket: bool = False) -> Model:
    """A text-to-speech model by id (``None`` → the default model).

    Parameters
    ----------
    model_id : str or None
        The id the client sent.
    websocket : bool
        Whether the model is for the stream-input websocket.

    Raises
    ------
    ModelNotFoundError
        For an unknown id.
    UnsupportedModelError
        For a model the websocket cannot use.
    """
    model = get_model(model_id or DEFAULT_MODEL_ID)
    if model is None:
        raise ModelNotFoundError(model_id)
    if websocket and not model.supports_websocket:
        raise UnsupportedModelError(model.model_id)
    return model
