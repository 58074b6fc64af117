"""Where the API key, the base URL and the local data directory come from.

Everything is resolved when it is needed, never at import, so a key set with
``os.environ["ELEVENLABS_API_KEY"] = ...`` after ``import xiwidgets`` is honoured by the next
request.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import platformdirs

HOSTED_BASE_URL = "https://api.elevenlabs.io"
API_KEY_ENV_VARS = ("ELEVENLABS_API_KEY", "XI_API_KEY")
BASE_URL_ENV_VAR = "ELEVENLABS_BASE_URL"
DATA_DIR_ENV_VAR = "XIWIDGETS_DATA_DIR"


def resolve_api_key(explicit: str | None = None) -> str | None:
    """Return the API key to send, or ``None`` when none is configured.

    Parameters
    ----------
    explicit : str, optional
        A key passed by the caller; it wins over the environment.

    Returns
    -------
    str or None
        ``explicit``, else ``$ELEVENLABS_API_KEY``, else ``$XI_API_KEY``. Blank values count as
        unset.
    """
    if explicit and explicit.strip():
        return explicit.strip()
    for name in API_KEY_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def configured_base_url(explicit: str | None = None) -> str | None:
    """Return the base URL chosen by the caller or the environment, or ``None`` if neither set one.

    Parameters
    ----------
    explicit : str, optional
        A base URL passed by the caller.

    Returns
    -------
    str or None
        ``explicit`` else ``$ELEVENLABS_BASE_URL``, without a trailing slash.
    """
    value = (explicit or os.environ.get(BASE_URL_ENV_VAR, "")).strip()
    return value.rstrip("/") or None


def resolve_base_url(explicit: str | None = None) -> str:
    """Return the base URL requests go to: ``configured_base_url(explicit)``, else the hosted
    API (``https://api.elevenlabs.io``)."""
    return configured_base_url(explicit) or HOSTED_BASE_URL


def local_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the directory the embedded local voice server keeps its voices and history in.

    Parameters
    ----------
    explicit : path-like, optional
        A directory chosen by the caller.

    Returns
    -------
    pathlib.Path
        ``explicit``, else ``$XIWIDGETS_DATA_DIR``, else the per-user data directory
        (``platformdirs.user_data_dir("xiwidgets")``).
    """
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(DATA_DIR_ENV_VAR, "").strip()
    if from_env:
        return Path(from_env)
    return Path(platformdirs.user_data_dir("xiwidgets", appauthor=False))


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an IP address) names this machine's loopback interface.

    Parameters
    ----------
    host : str
        ``localhost``, an IPv4/IPv6 address, or any other host name (never loopback).

    Returns
    -------
    bool
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
