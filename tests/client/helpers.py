"""Constants and small helpers shared by the client tests."""

from __future__ import annotations

# A recognisable key: tests scan everything the client produces for it.
SECRET_KEY = "sk_live_TOPSECRET_7f3a9c2e1b"
HOSTED = "https://api.elevenlabs.io"
