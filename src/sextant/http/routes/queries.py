"""``construct-query`` and ``execute`` (spec §6)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from sextant.auth.principal import Principal
from sextant.http.deps import get_service, principal
from sextant.http.streaming import outcome_response
from sextant.query.spec import QueryRequest
from sextant.service import Sextant

__all__ = ["router"]

router = APIRouter(prefix="/api/agent/v1", tags=["queries"])
Service = Annotated[Sextant, Depends(get_service)]


class QueryToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: Annotated[StrictStr, Field(min_length=1, max_length=262_144)]


class ExecuteResult(BaseModel):
    """Documented shape; the body is streamed. On failure: ``{"status":"failed","error":…}``."""

    status: str
    data: dict[str, object] | None = None
    row_count: int | None = None
    running_time: int | None = None
    error: str | None = None


@router.post("/construct-query", summary="Build a query token from a table or metric request")
def construct_query(
    body: QueryRequest,
    caller: Annotated[Principal, Depends(principal("agent:query:construct"))],
    service: Service,
) -> QueryToken:
    return QueryToken(query=service.construct_query(caller, body))


@router.post(
    "/execute",
    status_code=202,
    summary="Run a query token (streamed; check `status` in the body)",
    response_model=ExecuteResult,
    responses={202: {"description": "completed or failed, see `status`"}},
)
async def execute(
    body: QueryToken,
    caller: Annotated[Principal, Depends(principal("agent:query:execute"))],
    service: Service,
) -> StreamingResponse:
    prepared = await run_in_threadpool(service.prepare_execution, caller, body.query)
    return outcome_response(service, prepared)
