"""Uploaded files checked against the per-file upload limit: the recording a speech route was
sent, the samples of a voice."""

from __future__ import annotations

import os
from typing import IO

from fastapi import UploadFile

from xiwidgets.server.config import ServerConfig
from xiwidgets.server.errors import APIError


def upload_size(config: ServerConfig, upload: UploadFile, what: str, fix: str) -> int:
    """The size of the upload's spooled file (left at its start), within the per-file limit.

    Raises
    ------
    APIError
        413 ``file_too_large`` past ``max_upload_file_bytes``: "``what`` is larger than
        … bytes; ``fix``."
    """
    size = upload.file.seek(0, os.SEEK_END)
    upload.file.seek(0)
    if size > config.max_upload_file_bytes:
        raise APIError(
            413,
            "file_too_large",
            f"{what} is larger than {config.max_upload_file_bytes:,} bytes; {fix}.",
        )
    return size


def recording_file(config: ServerConfig, upload: UploadFile | None) -> IO[bytes] | None:
    """The upload's spooled file (never read into memory here), or ``None`` without one.

    Raises
    ------
    APIError
        413 ``file_too_large`` past ``max_upload_file_bytes``.
    """
    if upload is None:
        return None
    upload_size(config, upload, "The recording", "upload a shorter one or compress it (MP3, Opus)")
    return upload.file
