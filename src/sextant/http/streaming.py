"""Running a prepared query for an HTTP request: 202, the body streamed, the warehouse's
work stopped when the client goes away."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
from fastapi.responses import StreamingResponse

from sextant.query.executor import Prepared
from sextant.query.results import QueryFailure, body_chunks, failed_body
from sextant.service import Sextant
from sextant.warehouse.runner import Execution

__all__ = ["outcome_response"]


def outcome_response(
    service: Sextant, prepared: Prepared, extra: Mapping[str, Any] | None = None
) -> StreamingResponse:
    """The 202 answer of an execution: completed rows or ``status: failed``, plus ``extra``."""
    execution = Execution()

    async def stream() -> AsyncIterator[str]:
        try:
            outcome = await anyio.to_thread.run_sync(
                service.run_execution, prepared, execution, abandon_on_cancel=True
            )
        except anyio.get_cancelled_exc_class():
            # the client went away: stop the warehouse's work, off the event loop (stopping
            # can mean opening a connection, as MySQL's KILL QUERY does)
            threading.Thread(target=execution.cancel, name="sextant-cancel", daemon=True).start()
            raise
        if isinstance(outcome, QueryFailure):
            yield failed_body(outcome.message, extra)
            return
        for chunk in body_chunks(outcome, extra):
            yield chunk

    return StreamingResponse(stream(), status_code=202, media_type="application/json")
