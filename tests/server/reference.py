"""The official API documents in ``shared/reference``, found from any checkout or worktree.

The documents are never copied into the repository; the nearest ancestor directory holding
``shared/reference/<name>`` is used, and tests skip when none does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator


def reference_path(name: str) -> Path | None:
    """Where ``shared/reference/name`` is, looking upwards from this checkout, or ``None``."""
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "shared" / "reference" / name
        if candidate.is_file():
            return candidate
    return None


def load_reference_spec(name: str = "elevenlabs-openapi-subset-2.json") -> dict[str, Any] | None:
    """An OpenAPI document of ``shared/reference``, or ``None`` when it is absent."""
    path = reference_path(name)
    return json.loads(path.read_text()) if path is not None else None


def schema_errors(spec: dict[str, Any], schema: dict[str, Any], payload: Any) -> list[str]:
    """Where ``payload`` breaks ``schema`` (which may ``$ref`` the spec's components)."""
    validator = Draft202012Validator({**schema, "components": spec["components"]})
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]


def response_schema(
    spec: dict[str, Any], path: str, method: str, status: str = "200"
) -> dict[str, Any]:
    """The JSON schema of an operation's response."""
    content = spec["paths"][path][method]["responses"][status]["content"]
    schema: dict[str, Any] = content["application/json"]["schema"]
    return schema
