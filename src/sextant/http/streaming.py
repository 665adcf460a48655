"""The 202 answer of an execution, streamed: completed rows or ``status: failed``.

The status line and headers go out at once; the body follows when the query ends. Written
against ASGI directly rather than through Starlette's ``StreamingResponse``: that one runs
the body and a disconnect listener in an AnyIO task group with cancel scopes, which cost a
small query more than the warehouse did. Here two asyncio tasks race (the run, the client
leaving), and a small body is one message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from sextant.operations.api import AgentAPI
from sextant.query.executor import Prepared
from sextant.query.results import QueryFailure, QueryResult, body_chunks, failed_body

__all__ = ["OutcomeResponse", "outcome_response"]

Trailer = Callable[[QueryResult], Mapping[str, Any]]
_STOPPING: set[asyncio.Future[Any]] = set()  # cancelled runs, held until they have ended


async def _no_body() -> Any:  # what StreamingResponse requires; never iterated here
    yield b""


async def _client_gone(receive: Receive) -> None:
    """Returns when the client disconnects (the request's body was read already)."""
    while (await receive())["type"] != "http.disconnect":
        pass


class OutcomeResponse(StreamingResponse):
    """A streamed execution that gives its place in line back however the exchange ends:
    the client gone before the body started, during it, or after it. A client that leaves
    while the query runs stops it."""

    def __init__(
        self,
        api: AgentAPI,
        prepared: Prepared,
        extra: Mapping[str, Any] | None = None,
        trailer: Trailer | None = None,
    ) -> None:
        super().__init__(_no_body(), status_code=202, media_type="application/json")
        self.api = api
        self.prepared = prepared
        self.extra = extra
        self.trailer = trailer

    def _chunks(self, outcome: QueryResult | QueryFailure) -> Iterable[str]:
        if isinstance(outcome, QueryFailure):
            return [failed_body(outcome.message, self.extra)]
        after = {**(self.extra or {}), **(self.trailer(outcome) if self.trailer else {})}
        return body_chunks(outcome, after)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gone = asyncio.ensure_future(_client_gone(receive))
        run: asyncio.Future[Any] | None = None
        try:
            await send({"type": "http.response.start", "status": 202, "headers": self.raw_headers})
            run = asyncio.ensure_future(self.api.run(self.prepared))
            await asyncio.wait((run, gone), return_when=asyncio.FIRST_COMPLETED)
            if not run.done():  # the client left first: stop the query
                return
            previous: str | None = None
            for chunk in self._chunks(run.result()):
                if previous is not None:
                    if gone.done():
                        return
                    body = previous.encode()
                    await send({"type": "http.response.body", "body": body, "more_body": True})
                previous = chunk
            last = (previous or "").encode()
            await send({"type": "http.response.body", "body": last, "more_body": False})
        finally:
            if not gone.done():
                gone.cancel()
            elif not gone.cancelled():
                gone.exception()  # a failed receive: the answer is over, nothing to add
            if run is not None and not run.done():
                run.cancel()  # it stops the warehouse's work as it ends
                _STOPPING.add(run)
                run.add_done_callback(_STOPPING.discard)
            self.prepared.abandon()


def outcome_response(
    api: AgentAPI,
    prepared: Prepared,
    extra: Mapping[str, Any] | None = None,
    *,
    trailer: Trailer | None = None,
) -> StreamingResponse:
    """Run ``prepared`` while the answer streams; ``extra`` keys join the body, and on
    success the keys ``trailer`` makes of the result (a page's continuation token)."""
    return OutcomeResponse(api, prepared, extra, trailer)
