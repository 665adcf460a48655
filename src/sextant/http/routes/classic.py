"""``/api``: the read-only subset of Metabase's classic API (databases, collections, cards).

Read-only by construction: no route here writes anything, and every write verb on these
paths answers 405 with ``Allow`` naming what the path does serve.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.routing import Match

from sextant.auth.principal import Principal
from sextant.cards.parameters import CardQueryRequest
from sextant.http import params
from sextant.http.deps import get_service, principal
from sextant.http.streaming import outcome_response
from sextant.service import Sextant

__all__ = ["READ_ONLY_FAMILIES", "router"]

router = APIRouter(prefix="/api", tags=["classic"])

Service = Annotated[Sextant, Depends(get_service)]
Caller = Annotated[Principal, Depends(principal())]
TableReader = Annotated[Principal, Depends(principal("agent:table:read"))]
CardReader = Annotated[Principal, Depends(principal("agent:metric:read"))]
CardRunner = Annotated[Principal, Depends(principal("agent:query:execute"))]

READ_ONLY_FAMILIES = ("card", "collection", "dashboard", "database", "dataset", "user")
_WRITES = ["POST", "PUT", "PATCH", "DELETE"]
_MAX_PAGE = 10_000


def _collection_id(raw: str) -> int | str:
    return "root" if raw == "root" else params.entity_id(raw)


@router.get("/user/current", summary="Who the credentials speak for")
def current_user(caller: Caller, service: Service) -> dict[str, Any]:
    return service.classic.current_user(caller)


@router.get("/database", summary="Databases holding at least one table the caller may query")
def databases(caller: TableReader, service: Service) -> dict[str, Any]:
    return service.classic.databases(caller)


@router.get("/database/{database_id}", summary="One database (`?include=tables` adds its tables)")
def database(
    database_id: str, request: Request, caller: TableReader, service: Service
) -> dict[str, Any]:
    include = request.query_params.get("include")
    return service.classic.database(caller, params.entity_id(database_id), include)


@router.get("/collection", summary="Collections the caller may read")
def collections(caller: CardReader, service: Service) -> list[dict[str, Any]]:
    return service.classic.collections(caller)


@router.get("/collection/{collection_id}", summary="One collection (or `root`)")
def collection(collection_id: str, caller: CardReader, service: Service) -> dict[str, Any]:
    return service.classic.collection(caller, _collection_id(collection_id))


@router.get(
    "/collection/{collection_id}/items",
    summary="Cards and metrics of a collection (`models`, `limit`, `offset`)",
)
def collection_items(
    collection_id: str, request: Request, caller: CardReader, service: Service
) -> dict[str, Any]:
    query = request.query_params
    return service.classic.collection_items(
        caller,
        _collection_id(collection_id),
        query.getlist("models"),
        params.optional_int(query, "limit", 1, _MAX_PAGE),
        params.optional_int(query, "offset", 0, 10**9),
    )


@router.get("/card", summary="Cards the caller may read (`f`: all, database, table, …)")
def cards(request: Request, caller: CardReader, service: Service) -> list[dict[str, Any]]:
    query = request.query_params
    model_id = params.optional_int(query, "model_id", 0, 2**53)
    return service.classic.cards(caller, query.get("f", "all"), model_id)


@router.get("/card/{card_id}", summary="A card: result columns and parameters, never SQL")
def card(card_id: str, caller: CardReader, service: Service) -> dict[str, Any]:
    return service.classic.card(caller, params.entity_id(card_id))


@router.post(
    "/card/{card_id}/query",
    status_code=202,
    summary="Run a card as the caller (streamed; check `status` in the body)",
    responses={202: {"description": "completed or failed, see `status`"}},
)
async def run_card(
    card_id: str,
    caller: CardRunner,
    service: Service,
    body: Annotated[CardQueryRequest | None, Body()] = None,
) -> StreamingResponse:
    number = params.entity_id(card_id)
    request = body or CardQueryRequest()
    prepared = await run_in_threadpool(service.classic.prepare_card, caller, number, request)
    extra = {"database_id": service.classic.card_database(number), "context": "question"}
    return outcome_response(service, prepared, extra)


def _allowed(request: Request) -> list[str]:
    """The methods the classic API serves on this path."""
    found = []
    for method in ("GET", "POST"):
        scope = {**request.scope, "method": method}
        for route in router.routes:
            if getattr(route, "endpoint", None) is read_only:
                continue
            match, _ = route.matches(scope)
            if match is Match.FULL:
                found.append(method)
                break
    return found


async def read_only(request: Request) -> JSONResponse:
    """Every write on the classic API's paths: 405, whoever asks."""
    return JSONResponse(
        {"error": "method_not_allowed", "message": "Sextant's classic API is read-only."},
        status_code=405,
        headers={"Allow": ", ".join(_allowed(request))},
    )


for _family in READ_ONLY_FAMILIES:
    for _path in (f"/{_family}", f"/{_family}/{{rest:path}}"):
        router.add_api_route(_path, read_only, methods=_WRITES, include_in_schema=False)
