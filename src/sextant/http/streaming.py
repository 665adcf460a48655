"""The 202 answer of an execution, streamed: completed rows or ``status: failed``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from fastapi.responses import StreamingResponse

from sextant.operations.api import AgentAPI
from sextant.query.executor import Prepared
from sextant.query.results import QueryFailure, body_chunks, failed_body

__all__ = ["outcome_response"]


def outcome_response(
    api: AgentAPI, prepared: Prepared, extra: Mapping[str, Any] | None = None
) -> StreamingResponse:
    """Run ``prepared`` while the body streams; ``extra`` keys join the body."""

    async def stream() -> AsyncIterator[str]:
        outcome = await api.run(prepared)
        if isinstance(outcome, QueryFailure):
            yield failed_body(outcome.message, extra)
            return
        for chunk in body_chunks(outcome, extra):
            yield chunk

    return StreamingResponse(stream(), status_code=202, media_type="application/json")
