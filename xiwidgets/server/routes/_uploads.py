"""The recording a speech route was sent, checked against the per-file upload limit."""

from __future__ import annotations

import os
from typing import IO

from fastapi import UploadFile

from xiwidgets.server.config import ServerConfig
from xiwidgets.server.errors import APIError


def recording_file(config: ServerConfig, upload: UploadFile | None) -> IO[bytes] | None:
    """The upload's spooled file (never read into memory here), or ``None`` without one.

    Raises
    ------
    APIError
        413 ``file_too_large`` past ``max_upload_file_bytes``.
    """
    if upload is None:
        return None
    size = upload.file.seek(0, os.SEEK_END)
    upload.file.seek(0)
    if size > config.max_upload_file_bytes:
        raise APIError(
            413,
            "file_too_large",
            f"The recording is larger than {config.max_upload_file_bytes:,} bytes; upload a "
            "shorter one or compress it (MP3, Opus).",
        )
    return upload.file
