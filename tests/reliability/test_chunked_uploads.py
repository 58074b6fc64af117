"""A body sent without ``Content-Length`` (chunked) costs the server no more memory than one
sent with its length.

The body-size guard reads a chunked body to the end before the app sees it (so an oversized
one gets a readable 413); it runs before any key is checked, so what it holds is open to
anyone who can connect: several large chunked uploads must not each sit in memory whole.
"""

from __future__ import annotations

import socket
import threading

import psutil
import pytest
import requests

from .harness import ServerProcess, host_port, wait_until

API_KEY = "chunked-upload-test-key"
BOUNDARY = "b0undary"
UPLOADS = 4
UPLOAD_BYTES = 40_000_000  # under the 51 MB multipart limit: read to the end, not refused
PIECE = b"\0" * (1 << 20)


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("chunked"), ["--api-key", API_KEY]).start()
    yield server
    server.stop()


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _start_chunked_upload(base_url: str) -> socket.socket:
    """A keyless multipart upload of ``UPLOAD_BYTES``, sent whole but for its last chunk."""
    host, port = host_port(base_url)
    sock = socket.create_connection((host, port), timeout=120)
    sock.sendall(
        f"POST /v1/speech-to-text HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n".encode()
        + _chunk(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
                 'filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n'.encode())
    )
    for _ in range(UPLOAD_BYTES // len(PIECE)):
        sock.sendall(_chunk(PIECE))
    return sock


def test_chunked_uploads_are_not_held_in_memory(keyed_server):
    process = psutil.Process(keyed_server.process.pid)
    before = process.memory_info().rss
    sockets: list[socket.socket] = []
    senders = [threading.Thread(target=lambda: sockets.append(
        _start_chunked_upload(keyed_server.base_url))) for _ in range(UPLOADS)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    assert len(sockets) == UPLOADS
    peak = 0

    def read_everything() -> bool:
        nonlocal peak
        peak = max(peak, process.memory_info().rss)
        return not any(_has_unread(sock) for sock in sockets)

    assert wait_until(read_everything, timeout=60, interval=0.2), "the server stopped reading"
    peak = max(peak, process.memory_info().rss)
    for sock in sockets:
        sock.sendall(_chunk(f"\r\n--{BOUNDARY}--\r\n".encode()) + b"0\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 401"), "the keyless upload was not refused"
        sock.close()
    grown = peak - before
    assert grown < 40_000_000, (
        f"{UPLOADS} chunked uploads of {UPLOAD_BYTES:,} bytes grew the server by {grown:,} bytes")


def _has_unread(sock: socket.socket) -> bool:
    """Whether bytes this socket sent still wait in the kernel for the server to read."""
    import fcntl
    import termios

    buffered = bytearray(4)
    fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, buffered)
    return int.from_bytes(buffered, "little") > 0


def test_a_large_chunked_upload_arrives_whole(keyed_server):
    lexemes = "".join(
        f"<lexeme><grapheme>word{n:05d}{'x' * 200}</grapheme><alias>w {n}</alias></lexeme>"
        for n in range(9_000)
    )
    pls = ('<?xml version="1.0" encoding="UTF-8"?><lexicon version="1.0" '
           'xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="ipa" '
           f'xml:lang="en-US">{lexemes}</lexicon>').encode()
    body = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\nBig\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            'filename="big.pls"\r\nContent-Type: application/pls+xml\r\n\r\n').encode() \
        + pls + f"\r\n--{BOUNDARY}--\r\n".encode()
    assert len(body) > 2 * (1 << 20)  # past what is kept in memory
    response = requests.post(
        keyed_server.base_url + "/v1/pronunciation-dictionaries/add-from-file",
        data=iter([body[i:i + 50_000] for i in range(0, len(body), 50_000)]),
        headers={"xi-api-key": API_KEY,
                 "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        timeout=120,
    )
    assert response.status_code == 200, response.text[:300]
    created = response.json()["id"]
    rules = requests.get(f"{keyed_server.base_url}/v1/pronunciation-dictionaries/{created}",
                         headers={"xi-api-key": API_KEY}, timeout=30).json()["rules"]
    assert len(rules) == 9_000
    assert rules[-1]["string_to_replace"] == f"word08999{'x' * 200}"
