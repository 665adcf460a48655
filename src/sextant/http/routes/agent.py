"""``/api/agent/v1``: the Agent API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from sextant.auth.principal import Principal
from sextant.entities.discovery import MetricFlags, TableFlags
from sextant.http import params
from sextant.http.deps import get_service, principal
from sextant.service import Sextant

__all__ = ["router"]

router = APIRouter(prefix="/api/agent/v1", tags=["agent"])

Caller = Annotated[Principal, Depends(principal())]
TableReader = Annotated[Principal, Depends(principal("agent:table:read"))]
MetricReader = Annotated[Principal, Depends(principal("agent:metric:read"))]
Service = Annotated[Sextant, Depends(get_service)]


@router.get("/ping", summary="Health check (needs authentication)")
def ping(caller: Caller, service: Service) -> dict[str, str]:
    return service.ping(caller)


@router.get("/table/{table_id}", summary="Table details: fields, related tables, metrics")
def table_detail(
    table_id: str, request: Request, caller: TableReader, service: Service
) -> dict[str, Any]:
    return service.table_detail(
        caller, params.entity_id(table_id), params.flags(request.query_params, TableFlags)
    )


@router.get("/metric/{metric_id}", summary="Metric details: dimensions, default time field")
def metric_detail(
    metric_id: str, request: Request, caller: MetricReader, service: Service
) -> dict[str, Any]:
    return service.metric_detail(
        caller, params.entity_id(metric_id), params.flags(request.query_params, MetricFlags)
    )


@router.get("/table/{table_id}/field/{field_id}/values", summary="Field statistics and values")
def table_field_values(
    table_id: str, field_id: str, request: Request, caller: TableReader, service: Service
) -> dict[str, Any]:
    entity = params.entity_id(table_id)
    limit = params.limit(request.query_params, default=30, maximum=1000)
    return service.field_values(caller, "table", entity, field_id, limit)


@router.get("/metric/{metric_id}/field/{field_id}/values", summary="Field statistics and values")
def metric_field_values(
    metric_id: str, field_id: str, request: Request, caller: MetricReader, service: Service
) -> dict[str, Any]:
    entity = params.entity_id(metric_id)
    limit = params.limit(request.query_params, default=30, maximum=1000)
    return service.field_values(caller, "metric", entity, field_id, limit)
