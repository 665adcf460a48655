"""The wire shapes of spec §3: field objects and entity summaries."""

from __future__ import annotations

from typing import Any

from sextant.query.fields import Column, field_id
from sextant.store.snapshot import DatabaseRow, MeasureRow, TableRow
from sextant.warehouse.types import field_type

__all__ = ["compact", "field_object", "named_object", "table_summary"]


def compact(data: dict[str, Any], keep: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Drop keys whose value is None or empty, except those in ``keep``."""
    return {k: v for k, v in data.items() if k in keep or v not in (None, "", [], {})}


def field_object(
    prefix: str, entity_id: int, column: Column, values: list[Any] | None = None
) -> dict[str, Any]:
    f = column.field
    obj: dict[str, Any] = {
        "field_id": field_id(prefix, entity_id, column.index),
        "name": f.name,
        "display_name": f.display_name,
        "type": field_type(f.base_type, f.semantic_type),
        "description": f.description,
        "database_type": f.database_type,
        "semantic_type": f.semantic_type,
    }
    if values is not None:
        obj["field_values"] = values
    return compact(obj, frozenset({"field_id", "name", "display_name", "type"}))


def table_summary(table: TableRow, database: DatabaseRow) -> dict[str, Any]:
    return {
        "type": "table",
        "id": table.id,
        "name": table.name,
        "display_name": table.display_name,
        "database_id": database.id,
        "database_engine": database.engine,
        "database_schema": table.schema,
        "description": table.description,
    }


def named_object(row: MeasureRow) -> dict[str, Any]:
    return compact(
        {
            "id": row.id,
            "name": row.name,
            "display_name": row.display_name or row.name,
            "description": row.description,
        }
    )
