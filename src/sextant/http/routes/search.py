"""``POST /v1/search`` (spec §5)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from sextant.auth.principal import Principal
from sextant.http import params
from sextant.http.deps import get_service, principal
from sextant.service import Sextant

__all__ = ["router"]

router = APIRouter(prefix="/api/agent/v1", tags=["search"])

Query = Annotated[StrictStr, Field(max_length=500)]


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    term_queries: Annotated[list[Query], Field(max_length=20)] = []
    semantic_queries: Annotated[list[Query], Field(max_length=20)] = []


class SearchResponse(BaseModel):
    data: list[dict[str, Any]]
    total_count: int


@router.post("/search", summary="Find tables and metrics (keyword + semantic, fused)")
def search(
    body: SearchRequest,
    request: Request,
    caller: Annotated[Principal, Depends(principal("agent:search"))],
    service: Annotated[Sextant, Depends(get_service)],
) -> SearchResponse:
    limit = params.limit(request.query_params, default=50, maximum=200)
    found = service.search(caller, body.term_queries, body.semantic_queries, limit)
    return SearchResponse(**found)
