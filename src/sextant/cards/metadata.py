"""The columns a card returns, known without running it: the card's query is resolved as an
administrator would see it and compiled over Ibis tables built from the application
database's field types, so no warehouse connection is needed."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from sextant.auth.principal import Principal
from sextant.cache import LRU
from sextant.model.types import ADMINISTRATORS
from sextant.query.compile import OutputColumn, compile_query
from sextant.query.normal import NormQuery
from sextant.query.resolve import resolve
from sextant.store.snapshot import Snapshot, TableRow

__all__ = ["CardColumns", "metadata_objects", "result_metadata"]

_DTYPES: dict[str, dt.DataType] = {
    "type/Boolean": dt.boolean,
    "type/Integer": dt.int32,
    "type/BigInteger": dt.int64,
    "type/Float": dt.float64,
    "type/Decimal": dt.Decimal(),
    "type/Text": dt.string,
    "type/UUID": dt.uuid,
    "type/JSON": dt.json,
    "type/DateTime": dt.timestamp,
    "type/Date": dt.date,
    "type/Time": dt.time,
}
_MODEL = Principal(0, "model@sextant.invalid", frozenset({ADMINISTRATORS}))
"""The card as written in the model: no caller's sandbox changes its columns."""


def _unbound(table: TableRow) -> ir.Table:
    schema = {f.name: _DTYPES.get(f.base_type, dt.string) for f in table.fields}
    return ibis.table(schema, name=table.name)


def result_metadata(snapshot: Snapshot, norm: NormQuery) -> tuple[OutputColumn, ...]:
    """The output columns of ``norm`` (names, display names, base and semantic types)."""
    resolved = resolve(norm, _MODEL, snapshot)
    compiled = compile_query(resolved, _MODEL, snapshot, _unbound, raw_cap=1, aggregated_cap=1)
    return compiled.columns


class CardColumns:
    """Result metadata per card, computed once per model version."""

    def __init__(self) -> None:
        self.cache: LRU[tuple[OutputColumn, ...]] = LRU(1024)

    def of(self, snapshot: Snapshot, card_id: int, norm: NormQuery) -> tuple[OutputColumn, ...]:
        key = (snapshot.version, card_id)
        found = self.cache.get(key)
        if found is None:
            found = result_metadata(snapshot, norm)
            self.cache.put(key, found)
        return found


def metadata_objects(columns: tuple[OutputColumn, ...]) -> list[dict[str, Any]]:
    """``result_metadata`` of ``GET /api/card/:id``."""
    return [
        {
            "name": c.name,
            "display_name": c.display_name,
            "base_type": c.base_type,
            "effective_type": c.effective_type or c.base_type,
            "semantic_type": c.semantic_type,
        }
        for c in columns
    ]
