"""The 202 answer of an execution, streamed: completed rows or ``status: failed``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from sextant.operations.api import AgentAPI
from sextant.query.executor import Prepared
from sextant.query.results import QueryFailure, QueryResult, body_chunks, failed_body

__all__ = ["OutcomeResponse", "outcome_response"]


class OutcomeResponse(StreamingResponse):
    """A streamed execution that gives its place in line back however the exchange ends:
    the client gone before the body started, during it, or after it."""

    def __init__(self, content: AsyncIterator[str], prepared: Prepared) -> None:
        super().__init__(content, status_code=202, media_type="application/json")
        self.prepared = prepared

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.prepared.abandon()


def outcome_response(
    api: AgentAPI,
    prepared: Prepared,
    extra: Mapping[str, Any] | None = None,
    *,
    trailer: Callable[[QueryResult], Mapping[str, Any]] | None = None,
) -> StreamingResponse:
    """Run ``prepared`` while the body streams; ``extra`` keys join the body, and on
    success the keys ``trailer`` makes of the result (a page's continuation token)."""

    async def stream() -> AsyncIterator[str]:
        outcome = await api.run(prepared)
        if isinstance(outcome, QueryFailure):
            yield failed_body(outcome.message, extra)
            return
        after = {**(extra or {}), **(trailer(outcome) if trailer else {})}
        for chunk in body_chunks(outcome, after):
            yield chunk

    return OutcomeResponse(stream(), prepared)
