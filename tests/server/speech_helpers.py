"""Helpers of the speech tests: Joe takes with their own alignment, and the second spec file."""

from __future__ import annotations

import base64
import json

from jsonschema import Draft202012Validator

from tests.server.helpers import SPEC_PATH, post, voice_id_named
from xiwidgets.client.captions import Word, words_from_alignment
from xiwidgets.client.types import Alignment

# ../shared beside the checkout (a worktree sits one level deeper than the main checkout).
SPEC2_PATH = next(
    (found for parent in SPEC_PATH.parents
     if (found := parent / "shared" / "reference" / "elevenlabs-openapi-subset-2.json").exists()),
    None,
)
SPEC2 = json.loads(SPEC2_PATH.read_text()) if SPEC2_PATH is not None else None


def spec2_errors(payload, path: str, method: str = "post") -> list[str]:
    """Where ``payload`` breaks the 200 response schema of ``path`` in the second spec file."""
    assert SPEC2 is not None
    schema = SPEC2["paths"][path][method]["responses"]["200"]["content"]["application/json"]
    validator = Draft202012Validator({**schema["schema"], "components": SPEC2["components"]})
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]


def joe_take(server, text: str, output_format: str = "mp3_44100_128") -> tuple[bytes, list[Word]]:
    """Joe speaking ``text`` (not logged) and the words of the engine's own alignment."""
    joe = voice_id_named(server, "Joe")
    response = post(
        server,
        f"/v1/text-to-speech/{joe}/with-timestamps",
        params={"output_format": output_format, "enable_logging": "false"},
        json={"text": text},
    )
    response.raise_for_status()
    body = response.json()
    alignment = Alignment.from_dict(body["alignment"])
    assert alignment is not None
    return base64.b64decode(body["audio_base64"]), words_from_alignment(alignment)
