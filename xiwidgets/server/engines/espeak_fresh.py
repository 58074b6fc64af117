"""Seeded espeak-ng takes from a freshly loaded espeak-ng, so a seed repeats a take byte for byte.

espeak-ng carries state from one call to the next (glottal-pulse phase, pitch flutter, samples
left in its output buffer) and has no call that resets it, so in one long-lived process the
same text, voice and seed give the same speech but not the same bytes. A take with a seed is
therefore synthesized in a child process that loads espeak-ng anew and speaks the take's
clauses in order. Children are forked from a ``forkserver`` that has imported this module but
never loaded espeak-ng: about 25 ms per take after the server's first start (~0.3 s), and
nothing the parent process did to espeak-ng can reach them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext

from .base import ClauseAudio, PhonemeWord, SynthesisSettings, VoiceSpec

_context_lock = threading.Lock()
_context: ForkServerContext | None = None


def _forkserver_context() -> ForkServerContext:
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            # Only this module is imported in the fork server (not the caller's __main__,
            # which may be a notebook kernel); espeak-ng itself is loaded in each child.
            context.set_forkserver_preload([__name__])
            _context = context
        return _context


def _serve_clauses(connection: Connection) -> None:
    """Child process: speak each clause request with a freshly loaded espeak-ng."""
    # Imported here: espeak_engine imports this module (a cycle), and the fork server, which
    # preloads this module, never needs it.
    from .espeak_engine import EspeakEngine

    engine = EspeakEngine()
    try:
        engine.load()
        while (request := connection.recv()) is not None:
            try:
                connection.send(("ok", engine.synthesize_clause(*request)))
            except Exception as error:  # sent back and raised in the parent
                connection.send(("error", error))
    except EOFError:  # the parent went away
        pass
    finally:
        connection.close()


class FreshEspeakSession:
    """Speaks the clauses of one take in a child process with its own espeak-ng.

    Use as a context manager; ``synthesize_clause`` has the signature of
    :meth:`EspeakEngine.synthesize_clause`.
    """

    def __init__(self) -> None:
        context = _forkserver_context()
        self._connection, child_end = context.Pipe()
        self._process = context.Process(
            target=_serve_clauses, args=(child_end,), name="xiwidgets-espeak", daemon=True
        )
        self._process.start()
        child_end.close()

    def synthesize_clause(
        self,
        text: str,
        voice: VoiceSpec,
        settings: SynthesisSettings,
        seed: int,
        phonemes: Sequence[PhonemeWord] = (),
    ) -> ClauseAudio:
        """Synthesize one clause in the child (see ``EspeakEngine.synthesize_clause``)."""
        try:
            self._connection.send((text, voice, settings, seed, tuple(phonemes)))
            reply: tuple[str, ClauseAudio | Exception] = self._connection.recv()
        except (EOFError, OSError) as error:
            raise RuntimeError(
                f"the espeak-ng worker process stopped (exit code {self._process.exitcode})"
            ) from error
        _status, value = reply  # ("ok", the clause) or ("error", what the child raised)
        if isinstance(value, Exception):
            raise value
        return value

    def close(self) -> None:
        """End the child process."""
        with contextlib.suppress(OSError):  # BrokenPipeError included: the child is gone
            self._connection.send(None)
        self._connection.close()
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()

    def __enter__(self) -> FreshEspeakSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
