"""The MCP server (official ``mcp`` SDK): the tools of :mod:`sextant.mcp.tools`, served over
streamable HTTP at ``/mcp`` of every Sextant server, or over stdio by ``sextant mcp``.

Over HTTP each request is authenticated like the REST API (the same headers, the same 401
bodies) before the MCP layer sees it, and every tool then acts as that caller. The endpoint
is stateless: no MCP session outlives its request, so a credential is checked every time.
"""

from __future__ import annotations

import contextvars
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import mcp_types as types
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.types import Receive, Scope, Send

from sextant import __version__
from sextant.errors import UserError
from sextant.mcp.tools import TOOLS, ToolBackend, ToolFailure, call_tool

__all__ = ["McpEndpoint", "build_server", "serve_stdio"]

log = logging.getLogger("sextant.mcp")

INSTRUCTIONS = (
    "Sextant answers data questions with the caller's permissions. Prefer list_cards and "
    "run_card: curated saved questions with known meaning. Otherwise search, inspect a table "
    "or metric (field ids come from get_table / get_metric) and query. Results are cut to "
    "what fits; when a note says so, ask a more specific question."
)
_READ_ONLY = types.ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


def _tool_list() -> list[types.Tool]:
    return [
        types.Tool(
            name=spec.name,
            title=spec.title,
            description=spec.description,
            input_schema=spec.input_schema(),
            annotations=_READ_ONLY.model_copy(update={"title": spec.title}),
        )
        for spec in TOOLS.values()
    ]


def _error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=True)


def build_server(backend: Callable[[], ToolBackend]) -> Server[Any]:
    """A low-level MCP server whose tools run on ``backend()`` (the caller's, per request)."""
    tools = _tool_list()

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        del ctx, params
        return types.ListToolsResult(tools=tools)

    async def call(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        del ctx
        try:
            result = await call_tool(backend(), params.name, params.arguments or {})
        except ToolFailure as exc:
            return _error(str(exc))
        except UserError as exc:
            return _error(exc.message)
        except Exception:
            request_id = uuid.uuid4().hex
            log.exception("MCP tool %s failed (request %s)", params.name, request_id)
            return _error(f"An internal error happened. Request id: {request_id}.")
        text = json.dumps(result, separators=(",", ":"), ensure_ascii=False, default=str)
        return types.CallToolResult(
            content=[types.TextContent(text=text)], structured_content=result
        )

    return Server(
        "sextant",
        version=__version__,
        title="Sextant",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call,
    )


_BACKEND: contextvars.ContextVar[ToolBackend] = contextvars.ContextVar("sextant_mcp_backend")


class McpEndpoint:
    """The ASGI app at ``/mcp``: authenticate, then serve one stateless MCP request as that
    caller. ``authenticate(scope)`` returns the caller's backend or raises a ``UserError``
    (answered by ``reject``, with the REST API's status and body)."""

    def __init__(
        self,
        authenticate: Callable[[Scope], ToolBackend],
        reject: Callable[[UserError], Any],
    ) -> None:
        self.authenticate = authenticate
        self.reject = reject
        self.server = build_server(_BACKEND.get)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        import anyio

        try:
            backend = await anyio.to_thread.run_sync(self.authenticate, scope)
        except UserError as exc:
            await self.reject(exc)(scope, receive, send)
            return
        token = _BACKEND.set(backend)
        try:
            manager = StreamableHTTPSessionManager(
                app=self.server, stateless=True, json_response=True
            )
            async with manager.run():
                await manager.handle_request(scope, receive, send)
        finally:
            _BACKEND.reset(token)


async def serve_stdio(backend: ToolBackend) -> None:
    """Serve the tools over this process's stdin and stdout until the client hangs up."""
    from mcp.server.stdio import stdio_server

    server = build_server(lambda: backend)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
