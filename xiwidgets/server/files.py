"""Files written whole or not at all: through a temporary file, an fsync and a rename.

A crash or a full disk mid-write leaves the previous file (or none), never a truncated one;
the temporary file is removed when the write fails, and its random name keeps two writers of
one path from sharing it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """Open a file whose content replaces ``path`` only once the block ends without error.

    Parameters
    ----------
    path : Path
        The file to write; its folder is created when missing.

    Yields
    ------
    BinaryIO
        The temporary file (hidden, beside ``path``), open for writing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (see ``atomic_file``)."""
    with atomic_file(path) as handle:
        handle.write(data)
