"""Construct and execute: tokens in, rows out, as the calling user, stoppable and audited."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import ibis.expr.types as ir
from sqlalchemy import Engine

from sextant.auth.principal import Principal
from sextant.cache import LRU
from sextant.errors import UserError, first_line
from sextant.query.compile import Compiled, compile_query
from sextant.query.gate import QueryGate, Ticket
from sextant.query.normal import NormQuery
from sextant.query.problems import Problems
from sextant.query.resolve import Resolved, normalize, resolve
from sextant.query.result_cache import ResultCache, result_key
from sextant.query.results import QueryFailure, QueryResult, result_from_arrow
from sextant.query.spec import QueryRequest
from sextant.query.token import decode_token, encode_token
from sextant.store.audit import record
from sextant.store.snapshot import Snapshot, TableRow
from sextant.warehouse.pool import Warehouses
from sextant.warehouse.runner import Execution, QueryCancelled, QueryTimedOut, run_query

__all__ = ["AuditTarget", "Limits", "Outcome", "Prepared", "QueryEngine"]

log = logging.getLogger("sextant.query")


@dataclass(frozen=True)
class Limits:
    timeout_seconds: float = 60.0
    raw_rows: int = 2000
    aggregated_rows: int = 10000


@dataclass(frozen=True)
class AuditTarget:
    """What the audit log records a run as."""

    action: str
    entity_type: str
    entity_id: int
    detail: dict[str, Any] | None = None


@dataclass
class Prepared:
    principal: Principal
    norm: NormQuery
    resolved: Resolved | None = None
    compiled: Compiled | None = None
    database: str = ""
    engine: str = ""
    ticket: Ticket | None = None
    failure: str | None = None  # the warehouse failed before the query could start
    audit: AuditTarget | None = None

    @property
    def audit_target(self) -> AuditTarget:
        if self.audit is not None:
            return self.audit
        return AuditTarget("query.execute", self.norm.kind, self.norm.entity)


Outcome = QueryResult | QueryFailure


class QueryEngine:
    def __init__(
        self,
        snapshot: Callable[[], Snapshot],
        warehouses: Warehouses,
        app_db: Engine,
        secret: Callable[[], bytes],
        gate: QueryGate,
        limits: Limits,
        results: ResultCache | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.warehouses = warehouses
        self.app_db = app_db
        self.secret = secret
        self.gate = gate
        self.limits = limits
        self._plans: LRU[tuple[Resolved, Compiled, str, str]] = LRU(512)
        self.results = results

    # -- construct -------------------------------------------------------------------------
    def construct(self, principal: Principal, request: QueryRequest) -> str:
        snapshot = self.snapshot()
        problems = Problems()
        norm = normalize(request, principal, snapshot, problems)
        resolve(norm, principal, snapshot, problems)  # raises with every problem at once
        return encode_token(norm, self.secret())

    # -- execute ---------------------------------------------------------------------------
    def compile(self, principal: Principal, norm: NormQuery) -> tuple[Resolved, Compiled, str, str]:
        """Resolve for ``principal`` and compile (sandboxes included), fresh every time."""
        snapshot = self.snapshot()
        resolved = resolve(norm, principal, snapshot)
        database = snapshot.databases[resolved.table.database_id]
        try:
            with self.warehouses.connection(database.name) as con:

                def open_table(table: TableRow) -> ir.Table:
                    return con.table(table.name, database=table.schema)

                compiled = compile_query(
                    resolved,
                    principal,
                    snapshot,
                    open_table,
                    raw_cap=self.limits.raw_rows,
                    aggregated_cap=self.limits.aggregated_rows,
                )
                compiled = replace(compiled, sql=str(con.compile(compiled.expr)))
        except Exception:
            self.warehouses.discard(database.name)  # reconnect next time
            raise
        return resolved, compiled, database.name, database.engine

    def prepare(self, principal: Principal, token: object) -> Prepared:
        """Check the token and the caller, compile, and take a place in line (4xx here)."""
        norm = decode_token(token, self.secret())
        assert isinstance(token, str)  # decode_token refuses anything else
        return self.prepare_query(principal, norm, plan_key=token)

    def prepare_query(
        self,
        principal: Principal,
        norm: NormQuery,
        *,
        plan_key: str | None = None,
        audit: AuditTarget | None = None,
    ) -> Prepared:
        """Resolve ``norm`` for the caller, compile, and take a place in line (4xx here).

        Plans are cached per query (its token, or its canonical form), caller (id, groups,
        attributes) and model version, so a repeated execution skips resolution and
        compilation but never crosses callers.
        """
        key = (
            plan_key or json.dumps(norm.to_json(), sort_keys=True, default=str),
            principal.user_id,
            principal.groups,
            tuple(sorted(principal.attributes.items())),
            self.snapshot().version,
        )
        plan = self._plans.get(key)
        if plan is None:
            try:
                plan = self.compile(principal, norm)
            except UserError:
                raise
            except Exception as exc:  # the warehouse is down or refused: a 202 "failed"
                log.warning("cannot prepare a query for user %s: %s", principal.user_id, exc)
                return Prepared(principal, norm, failure=first_line(exc), audit=audit)
            self._plans.put(key, plan)
        resolved, compiled, database, engine = plan
        ticket = self.gate.admit(principal.user_id)
        return Prepared(principal, norm, resolved, compiled, database, engine, ticket, None, audit)

    def forget_plans(self) -> None:
        self._plans.clear()

    def run(self, prepared: Prepared, execution: Execution) -> Outcome:
        """Run a prepared query to completion or failure (never raises for the warehouse)."""
        started = time.perf_counter()
        status, rows, error = "completed", None, None
        result: QueryResult | None = None
        detail: dict[str, object] | None = None
        try:
            if prepared.failure is not None:
                raise _Unavailable(prepared.failure)
            assert prepared.ticket is not None and prepared.compiled is not None
            key = result_key(
                prepared.database, prepared.compiled.sql or "", repr(prepared.compiled.columns)
            )
            cached = self.results.get(key) if self.results is not None else None
            if cached is not None:
                result = QueryResult.from_cache(prepared.compiled.columns, cached)
                detail = {"cached": True}
                raise _Cached()
            if not prepared.ticket.wait(self.limits.timeout_seconds):
                raise QueryTimedOut()
            with self.warehouses.lease(prepared.database) as (backend, lock):
                elapsed = time.perf_counter() - started
                table = run_query(
                    backend,
                    prepared.engine,
                    prepared.compiled.expr,
                    execution,
                    max(0.001, self.limits.timeout_seconds - elapsed),
                    sql=prepared.compiled.sql,
                    compile_lock=lock,
                )
            running_ms = int((time.perf_counter() - started) * 1000)
            result = result_from_arrow(
                table,
                prepared.compiled.columns,
                row_cap=prepared.compiled.row_cap,
                cap_binds=prepared.compiled.cap_binds,
                running_ms=running_ms,
            )
            rows = result.row_count
            if self.results is not None:
                self.results.put(key, result.to_cache())
        except _Cached:
            pass
        except QueryTimedOut:
            status = "timeout"
            error = f"The query ran longer than {self.limits.timeout_seconds:g} s and was stopped."
        except QueryCancelled:
            status, error = "cancelled", "The query was cancelled."
        except Exception as exc:  # the warehouse refused: report it, without internals
            if prepared.failure is None:
                self.warehouses.discard(prepared.database)
            status = "failed"
            error = "The warehouse could not run the query: " + first_line(exc)
            log.warning("query failed for user %s: %s", prepared.principal.user_id, exc)
        finally:
            if prepared.ticket is not None:
                prepared.ticket.release()
        duration = int((time.perf_counter() - started) * 1000)
        target = prepared.audit_target
        record(
            self.app_db,
            user_id=prepared.principal.user_id,
            action=target.action,
            status=status,
            entity_type=target.entity_type,
            entity_id=target.entity_id,
            duration_ms=duration,
            row_count=rows,
            detail={**({"error": error} if error else (detail or {})), **(target.detail or {})}
            or None,
        )
        if error is not None or result is None:
            return QueryFailure(status, error or "The query did not complete.")
        return result


class _Unavailable(Exception):
    pass


class _Cached(Exception):
    """The answer came from the result cache."""
