"""``construct-query`` and ``execute`` (spec §6)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from sextant.http.deps import API, Caller
from sextant.http.streaming import outcome_response
from sextant.operations.arguments import ExecuteArguments
from sextant.query.spec import QueryRequest

__all__ = ["router"]

router = APIRouter(prefix="/api/agent/v1", tags=["queries"])


class QueryToken(BaseModel):
    query: str
    warnings: list[str] | None = None  # what was ignored (unknown keys, metric-query parts)


class ExecuteResult(BaseModel):
    """Documented shape; the body is streamed. On failure: ``{"status":"failed","error":…}``."""

    status: str
    data: dict[str, object] | None = None
    row_count: int | None = None
    running_time: int | None = None
    error: str | None = None


@router.post(
    "/construct-query",
    summary="Build a query token from a table or metric request",
    response_model=QueryToken,
    response_model_exclude_none=True,
)
def construct_query(body: QueryRequest, caller: Caller, api: API) -> dict[str, Any]:
    return api.construct_query(caller, body)


@router.post(
    "/execute",
    status_code=202,
    summary="Run a query token (streamed; check `status` in the body)",
    response_model=ExecuteResult,
    responses={202: {"description": "completed or failed, see `status`"}},
)
async def execute(body: ExecuteArguments, caller: Caller, api: API) -> StreamingResponse:
    prepared = await run_in_threadpool(api.prepare_execute, caller, body)
    return outcome_response(api, prepared)
