"""``/mcp``: the MCP server over streamable HTTP, authenticated like every other route."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Scope

from sextant.http.deps import client_address
from sextant.http.errors import user_error_response
from sextant.mcp.backends import InProcess
from sextant.mcp.server import McpEndpoint
from sextant.service import Sextant

__all__ = ["mcp_endpoint"]


def mcp_endpoint(service: Sextant) -> McpEndpoint:
    def authenticate(scope: Scope) -> InProcess:
        request = Request(scope)
        caller = service.authenticate(request.headers, client_address(request), None)
        return InProcess(service.api, caller)

    return McpEndpoint(authenticate, user_error_response)
