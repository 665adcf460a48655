"""``/api``: the read-only subset of Metabase's classic API (databases, collections, cards).

Read-only by construction: no route here writes anything, and every write verb on these
paths answers 405 with ``Allow`` naming what the path does serve.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.routing import Match

from sextant.cards.parameters import CardQueryRequest
from sextant.http import params
from sextant.http.answers import JsonAnswer
from sextant.http.deps import API, Caller
from sextant.http.streaming import outcome_response
from sextant.operations.arguments import (
    CardArguments,
    CardListArguments,
    CardRunArguments,
    CollectionArguments,
    CollectionItemsArguments,
    DatabaseArguments,
)

__all__ = ["READ_ONLY_FAMILIES", "router"]

router = APIRouter(prefix="/api", tags=["classic"])

READ_ONLY_FAMILIES = ("card", "collection", "dashboard", "database", "dataset", "user")
_WRITES = ["POST", "PUT", "PATCH", "DELETE"]


def _collection_id(raw: str) -> int | str:
    return "root" if raw == "root" else params.entity_id(raw)


@router.get("/user/current", summary="Who the credentials speak for")
def current_user(caller: Caller, api: API) -> JsonAnswer:
    return JsonAnswer(api.current_user(caller))


@router.get("/database", summary="Databases holding at least one table the caller may query")
def databases(caller: Caller, api: API) -> JsonAnswer:
    return JsonAnswer(api.databases(caller))


@router.get(
    "/database/{database_id}",
    summary="One database (`?include=tables` adds its tables)",
    openapi_extra=params.documented(DatabaseArguments, "database_id"),
)
def database(database_id: str, request: Request, caller: Caller, api: API) -> JsonAnswer:
    args = params.query_arguments(
        DatabaseArguments, request.query_params, database_id=params.entity_id(database_id)
    )
    return JsonAnswer(api.database(caller, args))


@router.get("/collection", summary="Collections the caller may read")
def collections(caller: Caller, api: API) -> JsonAnswer:
    return JsonAnswer(api.collections(caller))


@router.get("/collection/{collection_id}", summary="One collection (or `root`)")
def collection(collection_id: str, caller: Caller, api: API) -> JsonAnswer:
    args = CollectionArguments(collection_id=_collection_id(collection_id))
    return JsonAnswer(api.collection(caller, args))


@router.get(
    "/collection/{collection_id}/items",
    summary="Cards and metrics of a collection (`models`, `limit`, `offset`)",
    openapi_extra=params.documented(CollectionItemsArguments, "collection_id"),
)
def collection_items(collection_id: str, request: Request, caller: Caller, api: API) -> JsonAnswer:
    args = params.query_arguments(
        CollectionItemsArguments,
        request.query_params,
        collection_id=_collection_id(collection_id),
    )
    return JsonAnswer(api.collection_items(caller, args))


@router.get(
    "/card",
    summary="Cards the caller may read (`f`: all, database, table, …)",
    openapi_extra=params.documented(CardListArguments),
)
def cards(request: Request, caller: Caller, api: API) -> JsonAnswer:
    return JsonAnswer(
        api.cards(caller, params.query_arguments(CardListArguments, request.query_params))
    )


@router.get("/card/{card_id}", summary="A card: result columns and parameters, never SQL")
def card(card_id: str, caller: Caller, api: API) -> JsonAnswer:
    return JsonAnswer(api.card(caller, CardArguments(card_id=params.entity_id(card_id))))


@router.post(
    "/card/{card_id}/query",
    status_code=202,
    summary="Run a card as the caller (streamed; check `status` in the body)",
    responses={202: {"description": "completed or failed, see `status`"}},
)
async def run_card(
    card_id: str,
    caller: Caller,
    api: API,
    body: Annotated[CardQueryRequest | None, Body()] = None,
) -> StreamingResponse:
    number = params.entity_id(card_id)
    parameters = (body or CardQueryRequest()).parameters
    args = CardRunArguments(card_id=number, parameters=parameters)
    prepared = await run_in_threadpool(api.prepare_card, caller, args)
    extra = {"database_id": prepared.resolved.table.database_id, "context": "question"}
    return outcome_response(api, prepared, extra)


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
