"""Helpers of the speech tests: Joe takes with their own alignment, and the second spec file."""

from __future__ import annotations

import base64
import json

from jsonschema import Draft202012Validator

from tests.server.helpers import SPEC_PATH, post, voice_id_named
from xiwidgets.client.captions import Word, words_from_alignment
from xiwidgets.client.types import Alignment


def _spec(name: str) -> dict | None:
    """A spec file of ../shared/reference beside the checkout (or a worktree's checkout)."""
    for parent in SPEC_PATH.parents:
        found = parent / "shared" / "reference" / name
        if found.exists():
            return json.loads(found.read_text())
    return None


SPEC = _spec("elevenlabs-openapi-subset.json")
SPEC2 = _spec("elevenlabs-openapi-subset-2.json")


def _errors(spec: dict | None, payload, path: str, method: str) -> list[str]:
    assert spec is not None
    schema = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]
    validator = Draft202012Validator({**schema["schema"], "components": spec["components"]})
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]


def spec_errors(payload, path: str, method: str = "post") -> list[str]:
    """Where ``payload`` breaks the 200 response schema of ``path`` in the first spec file."""
    return _errors(SPEC, payload, path, method)


def spec2_errors(payload, path: str, method: str = "post") -> list[str]:
    """Where ``payload`` breaks the 200 response schema of ``path`` in the second spec file."""
    return _errors(SPEC2, payload, path, method)


TAKE_SEED = 7


def joe_take(server, text: str, output_format: str = "mp3_44100_128") -> tuple[bytes, list[Word]]:
    """Joe speaking ``text`` (not logged) and the words of the engine's own alignment.

    Seeded: Piper's noise differs between unseeded takes, and Whisper tiny.en sometimes hears
    an unseeded take's first word wrong ("She sells" as "g cells"), which failed CI once. The
    seed makes the take, and so what the recognizer is given, the same in every run.
    """
    joe = voice_id_named(server, "Joe")
    response = post(
        server,
        f"/v1/text-to-speech/{joe}/with-timestamps",
        params={"output_format": output_format, "enable_logging": "false"},
        json={"text": text, "seed": TAKE_SEED},
    )
    response.raise_for_status()
    body = response.json()
    alignment = Alignment.from_dict(body["alignment"])
    assert alignment is not None
    return base64.b64decode(body["audio_base64"]), words_from_alignment(alignment)
