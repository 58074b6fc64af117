"""A notebook run with an API key, then saved, holds the key nowhere (outputs nor widget state)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

pytestmark = pytest.mark.timeout(300)

# Cells appended to the quickstart: the places a key could slip out (reprs, magics, errors).
EXTRA_CELLS = [
    "client = xi.connect()\nclient",
    "client.user.get()",
    "studio.voice_picker.voice, studio.voice_settings.settings",
    "%load_ext xiwidgets",
    "%xi_voices",
    "%%speak --voice Nobody-Here\nThis voice does not exist.",
    "%%speak --policy embed\nA take with the key in the environment.",
    "%xi_history --page-size 3",
]


def test_saved_notebook_never_contains_the_api_key(
    server_factory: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = f"sk_saved_{uuid.uuid4().hex}"
    keyed = server_factory(api_keys=[key])
    monkeypatch.setenv("ELEVENLABS_API_KEY", key)
    monkeypatch.setenv("ELEVENLABS_BASE_URL", keyed.base_url)
    monkeypatch.delenv("XI_API_KEY", raising=False)

    notebook = nbformat.read(NOTEBOOKS / "01-quickstart.ipynb", as_version=4)
    notebook.cells.extend(nbformat.v4.new_code_cell(source) for source in EXTRA_CELLS)
    NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=120,
        store_widget_state=True,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    saved = tmp_path / "saved.ipynb"
    nbformat.write(notebook, saved)

    text = saved.read_text()
    assert key not in text
    assert key not in json.dumps(json.loads(text), ensure_ascii=False)
    # The run really used the keyed server and really saved widget state to look through.
    widget_state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]
    assert widget_state["state"]
    outputs = [output for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.get("outputs", [])]
    assert any("data:audio/mpeg;base64," in json.dumps(output) for output in outputs)
    assert any("Nobody-Here" in output.get("text", "") for output in outputs
               if output.get("name") == "stderr")
    assert not any(output.get("output_type") == "error" for output in outputs)
