"""Slow or oversized requests cannot hold connections and memory (finding 13): the protocol
`sextant serve` runs refuses them, through a real uvicorn server and raw sockets."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sextant.cli.main import uvicorn_options
from sextant.http import create_app
from sextant.http.protocol import GuardedHttpToolsProtocol, configure
from sextant.service import Sextant
from sextant.settings import Settings
from tests.conftest import TEST_SECRET
from tests.servers import serve


@pytest.fixture(scope="module")
def server(shared_service: Sextant) -> Iterator[tuple[str, int]]:
    previous = (
        GuardedHttpToolsProtocol.head_timeout,
        GuardedHttpToolsProtocol.body_timeout,
        GuardedHttpToolsProtocol.max_head_bytes,
    )
    protocol = configure(1.0, 1.0, 8192)
    app = create_app(shared_service.settings, shared_service)
    try:
        with serve(app, http=protocol, timeout_keep_alive=1) as url:
            host, port = url.removeprefix("http://").split(":")
            yield host, int(port)
    finally:
        configure(*previous)


def _connect(server: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(server, timeout=10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


def _closed_within(sock: socket.socket, seconds: float) -> tuple[bytes, float]:
    started = time.monotonic()
    data = _read_all(sock)
    return data, time.monotonic() - started


def test_an_idle_connection_is_closed(server: tuple[str, int]) -> None:
    with _connect(server) as sock:
        data, waited = _closed_within(sock, 5)
    assert waited < 3 and b"408" in data.split(b"\r\n", 1)[0]


def test_a_slow_head_is_cut(server: tuple[str, int]) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /api/agent/v1/ping HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        with contextlib.suppress(OSError):
            for _ in range(20):  # one header byte every 0.2 s: never done within 1 s
                sock.sendall(b"X")
                time.sleep(0.2)
        data = _read_all(sock)
    assert time.monotonic() - started < 3.5
    assert data.startswith(b"HTTP/1.1 408")


def test_an_oversized_head_is_refused(server: tuple[str, int]) -> None:
    with _connect(server) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(b"GET /api/agent/v1/ping HTTP/1.1\r\nX-Big: " + b"a" * 100_000)
        data = _read_all(sock)
    assert data.startswith(b"HTTP/1.1 431"), data[:80]


def test_a_body_that_never_comes_is_cut(server: tuple[str, int]) -> None:
    with _connect(server) as sock:
        sock.sendall(
            b"POST /api/agent/v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
            b"\r\nContent-Length: 100\r\n\r\n{"
        )
        data, waited = _closed_within(sock, 5)
    assert waited < 3 and b"408" in data.split(b"\r\n", 1)[0]


def test_normal_requests_and_keep_alive(server: tuple[str, int]) -> None:
    from sextant.auth.tokens import make_jwt

    request = (
        "GET /api/agent/v1/ping HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {make_jwt(TEST_SECRET, 'analyst@example.com')}\r\n\r\n"
    ).encode()
    with _connect(server) as sock:
        for _ in range(3):  # one connection, several requests
            sock.sendall(request)
            answer = sock.recv(65536)
            assert answer.startswith(b"HTTP/1.1 200") and b'{"message":"pong"}' in answer
            time.sleep(0.3)
        data, waited = _closed_within(sock, 5)  # idle after the last answer: closed
    assert waited < 3 and data == b""


def test_serve_runs_the_guarded_protocol(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"SEXTANT_HEAD_TIMEOUT_SECONDS": "7", "SEXTANT_MAX_HEADER_BYTES": "32768"},
        data_dir=tmp_path,
    )
    options = uvicorn_options(settings)
    assert options["http"] is GuardedHttpToolsProtocol
    assert GuardedHttpToolsProtocol.head_timeout == 7.0
    assert GuardedHttpToolsProtocol.max_head_bytes == 32768
    assert options["timeout_keep_alive"] == 5
    configure(10.0, 30.0, 65_536)
