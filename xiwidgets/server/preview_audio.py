"""One designed voice's preview audio, made once and replayed to every stream.

A preview is synthesized by one maker (the design itself, or the first stream of a
``stream_previews`` design) and kept as encoded bytes; a stream that starts while the audio is
still being made reads what is there and waits for the rest, so however many streams a
preview gets, and however they overlap, it is spoken once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator


class PreviewAudio:
    """Encoded audio written piece by piece by one maker and read by any number of streams."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._pieces: list[bytes] = []
        self._size = 0
        self._done = False
        self._error: BaseException | None = None

    @property
    def size(self) -> int:
        """Bytes made so far."""
        with self._changed:
            return self._size

    @property
    def failed(self) -> bool:
        """Whether the maker gave up (the audio will never be complete)."""
        with self._changed:
            return self._error is not None

    def append(self, piece: bytes) -> None:
        """Add the next encoded bytes (the maker only)."""
        if not piece:
            return
        with self._changed:
            self._pieces.append(piece)
            self._size += len(piece)
            self._changed.notify_all()

    def finish(self) -> None:
        """Mark the audio complete (the maker only)."""
        with self._changed:
            self._done = True
            self._changed.notify_all()

    def fail(self, error: BaseException) -> None:
        """Mark the audio as never to be complete: waiting streams raise ``error``."""
        with self._changed:
            self._error = error
            self._changed.notify_all()

    def stream(self) -> Iterator[bytes]:
        """Every piece in order, waiting for pieces not made yet.

        Raises
        ------
        BaseException
            The maker's error, if it failed before the end.
        """
        index = 0
        while True:
            with self._changed:
                while index == len(self._pieces) and not self._done and self._error is None:
                    self._changed.wait()
                if self._error is not None:
                    raise self._error
                pieces = self._pieces[index:]
                done = self._done
            index += len(pieces)
            yield from pieces
            if done and not pieces:
                return

    def whole(self) -> bytes:
        """All the audio, once it is complete (raises the maker's error if it failed)."""
        return b"".join(self.stream())
