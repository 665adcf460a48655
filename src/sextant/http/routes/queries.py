"""``construct-query`` and ``execute`` (spec §6)."""

from __future__ import annotations

import functools
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from sextant.http.deps import API, Caller
from sextant.http.streaming import outcome_response
from sextant.operations.arguments import ExecuteArguments
from sextant.query.spec import QueryPageRequest, QueryRequest

__all__ = ["router", "unversioned"]

router = APIRouter(prefix="/api/agent/v1", tags=["queries"])
unversioned = APIRouter(prefix="/api/agent", tags=["queries"])


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


class PageResult(ExecuteResult):
    """Documented shape of a page; the body is streamed."""

    continuation_token: str | None = None  # present while more rows remain
    warnings: list[str] | None = None  # first page: what was ignored in the request


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
    if api.prepares_without_io():  # a thread hop costs more than checking a ready token
        prepared = api.prepare_execute(caller, body)
    else:
        prepared = await run_in_threadpool(api.prepare_execute, caller, body)
    return outcome_response(api, prepared)


@router.post(
    "/query",
    status_code=202,
    summary="Construct and run a query, one page at a time (streamed; check `status`)",
    response_model=PageResult,
    responses={202: {"description": "a page, completed or failed, see `status`"}},
)
@unversioned.post(
    "/query",
    status_code=202,
    summary="Same as /v1/query",
    response_model=PageResult,
    responses={202: {"description": "a page, completed or failed, see `status`"}},
)
async def query(body: QueryPageRequest, caller: Caller, api: API) -> StreamingResponse:
    prepared = await run_in_threadpool(api.prepare_page, caller, body)
    extra = {"warnings": list(prepared.warnings)} if prepared.warnings else None
    return outcome_response(
        api, prepared, extra, trailer=functools.partial(api.page_trailer, prepared)
    )
