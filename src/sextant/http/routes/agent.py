"""``/api/agent/v1``: discovery (ping, table and metric details, field values)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from sextant.http import params
from sextant.http.answers import JsonAnswer
from sextant.http.deps import API, Caller
from sextant.operations.arguments import (
    FieldValuesArguments,
    ListArguments,
    MetricArguments,
    TableArguments,
)

__all__ = ["router", "unversioned"]

router = APIRouter(prefix="/api/agent/v1", tags=["agent"])


@router.get("/ping", summary="Health check (needs authentication)")
async def ping(caller: Caller, api: API) -> JsonAnswer:
    return JsonAnswer(api.ping(caller))


@router.get(
    "/tables",
    summary="Every table the caller may use (paged: limit, offset)",
    openapi_extra=params.documented(ListArguments),
)
def tables(request: Request, caller: Caller, api: API) -> JsonAnswer:
    return JsonAnswer(
        api.tables(caller, params.query_arguments(ListArguments, request.query_params))
    )


@router.get(
    "/metrics",
    summary="Every metric the caller may use (paged: limit, offset)",
    openapi_extra=params.documented(ListArguments),
)
def metrics(request: Request, caller: Caller, api: API) -> JsonAnswer:
    return JsonAnswer(
        api.metrics(caller, params.query_arguments(ListArguments, request.query_params))
    )


@router.get("/cards", summary="The curated cards agents are offered (Sextant's addition)")
def curated_cards(caller: Caller, api: API) -> JsonAnswer:
    return JsonAnswer(api.curated_cards(caller))


@router.get(
    "/table/{table_id}",
    summary="Table details: fields, related tables, metrics",
    openapi_extra=params.documented(TableArguments, "table_id"),
)
async def table_detail(table_id: str, request: Request, caller: Caller, api: API) -> JsonAnswer:
    args = params.query_arguments(
        TableArguments, request.query_params, table_id=params.entity_id(table_id)
    )
    if api.details_without_io(args.with_field_values):  # a thread hop costs more
        return JsonAnswer(api.table_detail(caller, args))
    return JsonAnswer(await run_in_threadpool(api.table_detail, caller, args))


@router.get(
    "/metric/{metric_id}",
    summary="Metric details: dimensions, default time field",
    openapi_extra=params.documented(MetricArguments, "metric_id"),
)
async def metric_detail(metric_id: str, request: Request, caller: Caller, api: API) -> JsonAnswer:
    args = params.query_arguments(
        MetricArguments, request.query_params, metric_id=params.entity_id(metric_id)
    )
    if api.details_without_io(args.with_field_values):
        return JsonAnswer(api.metric_detail(caller, args))
    return JsonAnswer(await run_in_threadpool(api.metric_detail, caller, args))


_VALUES = params.documented(FieldValuesArguments, "entity_type", "entity_id", "field_id")


def _values(kind: str, entity: str, field_id: str, request: Request) -> FieldValuesArguments:
    return params.query_arguments(
        FieldValuesArguments,
        request.query_params,
        entity_type=kind,
        entity_id=params.entity_id(entity),
        field_id=field_id,
    )


@router.get(
    "/table/{table_id}/field/{field_id}/values",
    summary="Field statistics and values",
    openapi_extra=_VALUES,
)
def table_field_values(
    table_id: str, field_id: str, request: Request, caller: Caller, api: API
) -> JsonAnswer:
    return JsonAnswer(api.table_field_values(caller, _values("table", table_id, field_id, request)))


@router.get(
    "/metric/{metric_id}/field/{field_id}/values",
    summary="Field statistics and values",
    openapi_extra=_VALUES,
)
def metric_field_values(
    metric_id: str, field_id: str, request: Request, caller: Caller, api: API
) -> JsonAnswer:
    return JsonAnswer(
        api.metric_field_values(caller, _values("metric", metric_id, field_id, request))
    )


# -- the unversioned paths of the reference's guide ------------------------------------------
unversioned = APIRouter(prefix="/api/agent", tags=["agent"])


@unversioned.get("/tables", summary="As /v1/tables", openapi_extra=params.documented(ListArguments))
def tables_unversioned(request: Request, caller: Caller, api: API) -> JsonAnswer:
    return tables(request, caller, api)


@unversioned.get(
    "/metrics", summary="As /v1/metrics", openapi_extra=params.documented(ListArguments)
)
def metrics_unversioned(request: Request, caller: Caller, api: API) -> JsonAnswer:
    return metrics(request, caller, api)


@unversioned.get("/tables/{table_id}/fields", summary="A table's fields (as in its detail)")
def table_fields(table_id: str, caller: Caller, api: API) -> JsonAnswer:
    args = TableArguments(table_id=params.entity_id(table_id))
    return JsonAnswer(api.table_fields(caller, args))
