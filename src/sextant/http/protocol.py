"""The HTTP/1.1 protocol ``sextant serve`` runs: uvicorn's httptools protocol with the limits it
lacks, so that slow or oversized requests cannot hold connections and memory:

- the request head (request line and headers) must arrive within ``head_timeout`` of the
  connection opening (or of the previous response) and fit in ``max_head_bytes``
  (past it: ``431``, then close);
- once the head is in, the body must arrive within ``body_timeout`` (past it: ``408``);
- idle keep-alive connections close after uvicorn's ``timeout_keep_alive``.

Limits are class attributes, set by :func:`configure` in each server process.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["GuardedHttpToolsProtocol", "configure"]

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    head_timeout: float = 10.0
    body_timeout: float = 30.0
    max_head_bytes: int = 64 * 1024

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_bytes = 0
        self._in_head = True
        self._timer: asyncio.TimerHandle | None = None
        self._arm(self.head_timeout)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._refuse, 408, "The request was too slow.")

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _refuse(self, status: int, message: str) -> None:
        self._disarm()
        if self.transport.is_closing():
            return
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()  # too late for an answer: just end it
            return
        body = ('{"error":"request_refused","message":"' + message + '"}').encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n" % (status, _REASONS[status], len(body)) + body
        )
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            if self._timer is None:
                self._arm(self.head_timeout)
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                self._refuse(431, "The request head is too large.")
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._arm(self.body_timeout)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        self._in_head = True  # the next request on this connection starts with its head
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def configure(head_timeout: float, body_timeout: float, max_head_bytes: int) -> type[Any]:
    """Set the limits for this process; the protocol class for uvicorn's ``http``."""
    GuardedHttpToolsProtocol.head_timeout = head_timeout
    GuardedHttpToolsProtocol.body_timeout = body_timeout
    GuardedHttpToolsProtocol.max_head_bytes = max_head_bytes
    return GuardedHttpToolsProtocol
