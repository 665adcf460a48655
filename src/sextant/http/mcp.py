"""``/mcp``: the MCP server over streamable HTTP, authenticated like every other route.

The MCP SDK (about 20 MB resident once imported) is loaded by the first request to ``/mcp``,
in a worker thread, so a server whose clients never speak MCP does not carry it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from sextant.http.deps import client_address
from sextant.http.errors import user_error_response
from sextant.mcp.backends import InProcess
from sextant.service import Sextant

if TYPE_CHECKING:
    from sextant.mcp.server import McpEndpoint

__all__ = ["mcp_endpoint"]


class _OnFirstUse:
    """The ASGI app at ``/mcp``, built when first called (two first callers may both build
    one; either serves, as they are equal)."""

    def __init__(self, service: Sextant) -> None:
        self.service = service
        self.endpoint: McpEndpoint | None = None

    def _build(self) -> McpEndpoint:
        from sextant.mcp.server import McpEndpoint

        service = self.service

        def authenticate(scope: Scope) -> InProcess:
            request = Request(scope)
            caller = service.authenticate(request.headers, client_address(request), None)
            return InProcess(service.api, caller)

        return McpEndpoint(authenticate, user_error_response)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.endpoint
        if endpoint is None:
            endpoint = self.endpoint = await anyio.to_thread.run_sync(self._build)
        await endpoint(scope, receive, send)


def mcp_endpoint(service: Sextant) -> _OnFirstUse:
    return _OnFirstUse(service)
