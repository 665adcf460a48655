"""Search results in the wire shape of spec §5."""

from __future__ import annotations

from typing import Any

from sextant.search.documents import Doc
from sextant.store.snapshot import Snapshot

__all__ = ["search_item"]


def search_item(snapshot: Snapshot, doc: Doc) -> dict[str, Any]:
    if doc.kind == "table":
        table = snapshot.tables[doc.id]
        return {
            "id": table.id,
            "type": "table",
            "name": table.name,
            "display_name": table.display_name,
            "description": table.description,
            "database_id": table.database_id,
            "database_schema": table.schema,
            "verified": False,
        }
    metric = snapshot.metrics[doc.id]
    item: dict[str, Any] = {
        "id": metric.id,
        "type": "metric",
        "name": metric.name,
        "description": metric.description,
        "database_id": snapshot.tables[metric.table_id].database_id,
        "verified": metric.verified,
    }
    if doc.collection:
        item["collection"] = {"name": doc.collection}
    return item
