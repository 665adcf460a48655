"""Storing and reading column fingerprints made at sync."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select

from sextant.store import schema as s
from sextant.warehouse.fingerprint import Fingerprint

__all__ = ["SyncColumn", "load_fingerprint", "save_fingerprints", "sync_targets"]


@dataclass(frozen=True)
class SyncColumn:
    field_id: int
    name: str
    base_type: str


def sync_targets(engine: Engine) -> dict[tuple[str, str, str | None], list[SyncColumn]]:
    """(database, table, schema) -> its visible columns, for every active visible table."""
    query = (
        select(
            s.databases.c.name.label("db"),
            s.tables.c.name.label("table"),
            s.tables.c.schema_name,
            s.fields.c.id,
            s.fields.c.name,
            s.fields.c.base_type,
        )
        .join(s.tables, s.tables.c.database_id == s.databases.c.id)
        .join(s.fields, s.fields.c.table_id == s.tables.c.id)
        .where(
            s.databases.c.active,
            s.tables.c.active,
            s.tables.c.visibility == "normal",
            s.fields.c.active,
            s.fields.c.visibility == "normal",
        )
        .order_by(s.databases.c.name, s.tables.c.name, s.fields.c.position)
    )
    out: dict[tuple[str, str, str | None], list[SyncColumn]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            key = (row.db, row.table, row.schema_name)
            out.setdefault(key, []).append(SyncColumn(row.id, row.name, row.base_type))
    return out


def save_fingerprints(engine: Engine, prints: Mapping[int, Fingerprint]) -> None:
    """Replace the fingerprints of the given fields, in one transaction."""
    if not prints:
        return
    now = _dt.datetime.now(_dt.UTC)
    with engine.begin() as conn:
        conn.execute(delete(s.fingerprints).where(s.fingerprints.c.field_id.in_(list(prints))))
        conn.execute(
            insert(s.fingerprints),
            [
                {
                    "field_id": field_id,
                    "computed_at": now,
                    "row_count": fp.row_count,
                    "statistics": fp.statistics,
                    "value_list": fp.values,
                }
                for field_id, fp in prints.items()
            ],
        )


def load_fingerprint(engine: Engine, field_id: int) -> Fingerprint | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(s.fingerprints).where(s.fingerprints.c.field_id == field_id)
        ).first()
    if row is None:
        return None
    return Fingerprint(int(row.row_count), dict(row.statistics), row.value_list)
