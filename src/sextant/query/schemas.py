"""Table schemas known in advance, so that compiling a query needs no warehouse connection.

A table's Ibis schema is read from the warehouse once per model version (a short metadata
query) and kept; compilation then works on unbound Ibis tables with exactly those types, and
produces the SQL text the runner sends. No connection or lock is held while a query compiles.
"""

from __future__ import annotations

import threading

import ibis
import ibis.expr.types as ir

from sextant.query.rows import OpenTable
from sextant.store.snapshot import TableRow
from sextant.warehouse.pool import Warehouses

__all__ = ["TableSchemas"]


class TableSchemas:
    def __init__(self, warehouses: Warehouses) -> None:
        self.warehouses = warehouses
        self._schemas: dict[tuple[str, int, int], ibis.Schema] = {}
        self._lock = threading.Lock()

    def schema(self, database: str, version: int, table: TableRow) -> ibis.Schema:
        key = (database, version, table.id)
        with self._lock:
            found = self._schemas.get(key)
        if found is None:
            with self.warehouses.connection(database) as con:
                found = con.table(table.name, database=table.schema).schema()
            with self._lock:
                self._schemas[key] = found
        return found

    def opener(self, database: str, version: int) -> OpenTable:
        """Unbound tables of ``database`` with the warehouse's own column types."""

        def open_table(table: TableRow) -> ir.Table:
            schema = self.schema(database, version, table)
            return ibis.table(schema, name=table.name, database=table.schema)

        return open_table

    def clear(self) -> None:
        with self._lock:
            self._schemas.clear()
