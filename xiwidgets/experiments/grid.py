"""A sweep's grid: every combination of request parameters, checked before anything is billed."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from xiwidgets.formats import OutputFormat, codec_of_format

# Every field of a text-to-speech request a sweep may vary, by where it goes in the request.
SETTINGS_AXES = ("stability", "similarity_boost", "style", "use_speaker_boost", "speed")
REQUEST_AXES = ("text", "voice", "model_id", "seed", "voice_settings", "output_format")
OPTION_AXES = ("language_code", "previous_text", "next_text", "previous_request_ids",
               "next_request_ids", "apply_text_normalization",
               "apply_language_text_normalization", "pronunciation_dictionary_locators",
               "use_pvc_as_ivc", "enable_logging")
AXES = (*REQUEST_AXES, *SETTINGS_AXES, *OPTION_AXES)
DEFAULT_MAX_CELLS = 200


def _values(axis: str, values: Any) -> list[Any]:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, (Sequence, range)):
        raise ValueError(f"Grid axis {axis!r} needs a list of values, not {values!r}: e.g. "
                         f"{{{axis!r}: [...]}}.")
    if not len(values):
        raise ValueError(f"Grid axis {axis!r} has no values: give at least one.")
    return list(values)


def expand(grid: Mapping[str, Any], max_cells: int | None = None) -> list[dict[str, Any]]:
    """Every cell of ``grid`` (one value per axis), first axis slowest.

    Raises
    ------
    ValueError
        An empty grid, an axis that is not a request parameter (the message lists them), an
        axis without values, or more than ``max_cells`` cells (200 by default).
    """
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError("The grid is empty: give at least one axis, e.g. "
                         "grid={'stability': [0.3, 0.7], 'seed': [1, 2]}.")
    unknown = [axis for axis in grid if axis not in AXES]
    if unknown:
        raise ValueError(f"{', '.join(map(repr, unknown))} is not a request parameter: "
                         f"grid axes are {', '.join(AXES)}.")
    axes = {axis: _values(axis, values) for axis, values in grid.items()}
    count = 1
    for values in axes.values():
        count *= len(values)
    limit = DEFAULT_MAX_CELLS if max_cells is None else max_cells
    if count > limit:
        advice = (f"pass max_cells={count} to run them all" if max_cells is None
                  else f"raise max_cells to {count} or shrink the grid")
        raise ValueError(f"The grid has {count} cells, more than {limit}; every cell is a "
                         f"billed take: {advice}.")
    return [dict(zip(axes, combination, strict=True))
            for combination in itertools.product(*axes.values())]


def batch_row(cell: Mapping[str, Any], *, text: str | None, voice: Any, model_id: str | None,
              seed: int | None, settings: Mapping[str, Any] | None, output_format: str,
              name: str) -> dict[str, Any]:
    """The :meth:`Client.synthesize_many` row of one cell, over the sweep's fixed values.

    ``name`` is the file's name without its extension, which the cell's format gives.
    """
    row_text = cell.get("text", text)
    if not isinstance(row_text, str) or not row_text:
        raise ValueError("No text to sweep: pass text=... or a 'text' axis.")
    row_voice = cell.get("voice", voice)
    if row_voice is None:
        raise ValueError("No voice to sweep: pass voice=... or a 'voice' axis.")
    merged = {**(settings or {}), **(cell.get("voice_settings") or {}),
              **{k: cell[k] for k in SETTINGS_AXES if k in cell}}
    row_format = cell.get("output_format", output_format)
    codec = codec_of_format(row_format) if isinstance(row_format, str) else None
    if codec is None:
        OutputFormat.parse(str(row_format))  # raises, listing the accepted formats
        raise AssertionError("unreachable: every accepted format has a codec")
    return {"text": row_text, "voice": row_voice, "model_id": cell.get("model_id", model_id),
            "seed": cell.get("seed", seed), "settings": merged or None,
            "output_format": row_format, "filename": name + codec.extension,
            "options": {k: cell[k] for k in OPTION_AXES if k in cell} or None}


def digest(*parts: Any) -> str:
    """A short, stable name for a sweep's folder: the same sweep resumes in the same place."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:12]
