"""``POST /v1/search`` (spec §5)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from sextant.http import params
from sextant.http.answers import JsonAnswer
from sextant.http.deps import API, Caller
from sextant.operations.arguments import SearchArguments

__all__ = ["router"]

router = APIRouter(prefix="/api/agent/v1", tags=["search"])


class SearchBody(BaseModel):
    """The body of ``/v1/search``: the search arguments but ``limit`` (a query parameter)."""

    model_config = SearchArguments.model_config
    term_queries: list[str] = []
    semantic_queries: list[str] = []


class SearchResponse(BaseModel):
    data: list[dict[str, Any]]
    total_count: int


@router.post(
    "/search",
    summary="Find tables and metrics (keyword + semantic, fused)",
    response_model=SearchResponse,
    openapi_extra=params.documented(SearchArguments, "term_queries", "semantic_queries"),
)
def search(body: SearchBody, request: Request, caller: Caller, api: API) -> JsonAnswer:
    args = params.query_arguments(
        SearchArguments,
        request.query_params,
        term_queries=body.term_queries,
        semantic_queries=body.semantic_queries,
    )
    return JsonAnswer(api.search(caller, args))
