"""Tables and metrics as search and listing answer with them (spec §5, §10)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from sextant.store.snapshot import MetricRow, Snapshot, TableRow

__all__ = ["metric_item", "search_item", "table_item"]


def _iso(value: _dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def table_item(table: TableRow) -> dict[str, Any]:
    return {
        "id": table.id,
        "type": "table",
        "name": table.name,
        "display_name": table.display_name,
        "description": table.description,
        "database_id": table.database_id,
        "database_schema": table.schema,
        "verified": False,
        "created_at": _iso(table.created_at),
        "updated_at": _iso(table.updated_at),
    }


def metric_item(snapshot: Snapshot, metric: MetricRow) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": metric.id,
        "type": "metric",
        "name": metric.name,
        "description": metric.description,
        "database_id": snapshot.tables[metric.table_id].database_id,
        "verified": metric.verified,
        "created_at": _iso(metric.created_at),
        "updated_at": _iso(metric.updated_at),
    }
    collection = snapshot.collections.get(metric.collection_id or -1)
    if collection is not None:
        item["collection"] = {
            "id": collection.id,
            "name": collection.name,
            "authority_level": "official" if collection.official else None,
        }
    return item


def search_item(snapshot: Snapshot, kind: str, entity_id: int) -> dict[str, Any]:
    if kind == "table":
        return table_item(snapshot.tables[entity_id])
    return metric_item(snapshot, snapshot.metrics[entity_id])
