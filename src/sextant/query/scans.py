"""Scans made on a caller's behalf outside a query (statistics and value lists computed on
demand): they take a place in the concurrency gate like a query, run on their own cursor or
connection, and stop at the query time limit. No lock a query needs is held meanwhile."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import ibis.expr.types as ir
import pyarrow as pa

from sextant.auth.principal import Principal
from sextant.errors import UserError
from sextant.query.gate import QueryGate
from sextant.query.rows import OpenTable
from sextant.query.schemas import TableSchemas
from sextant.query.sql import to_sql
from sextant.store.snapshot import DatabaseRow
from sextant.warehouse.pool import Warehouses, broken_connection
from sextant.warehouse.runner import Execution, QueryCancelled, QueryTimedOut, run_query

__all__ = ["Scan", "ScanTimedOut", "Scans"]


class ScanTimedOut(UserError):
    """Statistics could not be computed within the time limit (try again later)."""

    status = 503
    code = "statistics_timeout"

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"Computing these statistics took longer than {seconds:g} s and was stopped; "
            "try again later or ask for fewer values."
        )
        self.retry_after = 5


@dataclass
class Scan:
    """One caller's scans of one database, within one time budget."""

    warehouses: Warehouses
    database: DatabaseRow
    open_table: OpenTable
    deadline: float
    timeout: float

    def run(self, expr: ir.Table) -> pa.Table:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ScanTimedOut(self.timeout)
        sql = to_sql(expr, self.database.engine)
        with self.warehouses.lease(self.database.name) as (backend, lock):
            try:
                return run_query(
                    backend,
                    self.database.engine,
                    expr,
                    Execution(),
                    left,
                    sql=sql,
                    compile_lock=lock,
                )
            except (QueryTimedOut, QueryCancelled) as exc:
                raise ScanTimedOut(self.timeout) from exc
            except Exception as exc:
                if broken_connection(exc):
                    self.warehouses.discard(self.database.name, backend)
                raise


class Scans:
    def __init__(
        self, warehouses: Warehouses, schemas: TableSchemas, gate: QueryGate, timeout: float
    ) -> None:
        self.warehouses = warehouses
        self.schemas = schemas
        self.gate = gate
        self.timeout = timeout

    @contextmanager
    def session(self, principal: Principal, database: DatabaseRow, version: int) -> Iterator[Scan]:
        """A place in line for the caller (429 when the line is full), then scans."""
        started = time.monotonic()
        ticket = self.gate.admit(principal.user_id)
        try:
            if not ticket.wait(self.timeout):
                raise ScanTimedOut(self.timeout)
            yield Scan(
                self.warehouses,
                database,
                self.schemas.opener(database.name, version),
                started + self.timeout,
                self.timeout,
            )
        finally:
            ticket.release()
