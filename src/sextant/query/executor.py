"""Construct and execute: tokens in, rows out, as the calling user, stoppable and audited.

Preparing a query checks it completely for the caller (every 4xx is raised there) and takes
a place in line; running it waits for its turn, compiles it (over table schemas known in
advance, so no connection or lock is held while compiling), and runs it in the warehouse — the
wait, the compilation and the warehouse's work all count against the query's time limit. A
failure ends its own query only: a connection is replaced only when the failure may have
broken it, and only once nobody else uses it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Engine

from sextant.auth.principal import Principal
from sextant.auth.rates import UserRates
from sextant.cache import LRU
from sextant.errors import InvalidRequestError, UserError, WarehouseError, first_line
from sextant.query.compile import Compiled, compile_query
from sextant.query.gate import QueryGate, Ticket
from sextant.query.normal import NormQuery
from sextant.query.paging import (
    DEFAULT_PAGE_SIZE,
    Continuation,
    Page,
    decode_continuation,
    encode_continuation,
)
from sextant.query.plans import PlanShapes
from sextant.query.problems import Problems
from sextant.query.resolve import Resolved, normalize, resolve
from sextant.query.result_cache import ResultCache, result_key
from sextant.query.results import QueryFailure, QueryResult, result_from_arrow
from sextant.query.schemas import TableSchemas
from sextant.query.spec import QueryPageRequest, QueryRequest, unknown_keys
from sextant.query.sql import to_sql
from sextant.query.token import MAX_TOKEN, decode_token, encode_token
from sextant.store.audit import AuditLog
from sextant.store.snapshot import Snapshot
from sextant.warehouse.pool import Warehouses, broken_connection
from sextant.warehouse.runner import Execution, QueryCancelled, QueryTimedOut, run_query

__all__ = ["AuditTarget", "Limits", "Outcome", "Prepared", "QueryEngine"]

log = logging.getLogger("sextant.query")


@dataclass(frozen=True)
class Limits:
    timeout_seconds: float = 60.0
    raw_rows: int = 2000
    aggregated_rows: int = 10000
    continuation_seconds: float = 600.0  # how long a page's continuation token is good for


@dataclass(frozen=True)
class AuditTarget:
    """What the audit log records a run as."""

    action: str
    entity_type: str
    entity_id: int
    detail: dict[str, Any] | None = None


@dataclass
class Prepared:
    """A query checked for its caller, with a place in line (its ticket)."""

    principal: Principal
    norm: NormQuery
    resolved: Resolved
    snapshot: Snapshot
    plan_key: tuple[Any, ...]
    ticket: Ticket
    audit: AuditTarget | None = None
    page: Page | None = None  # one page of the result (POST /v1/query), or the whole
    compiled: Compiled | None = field(default=None, repr=False)
    warnings: tuple[str, ...] = ()
    _claimed: bool = field(default=False, repr=False)
    _claim: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def audit_target(self) -> AuditTarget:
        if self.audit is not None:
            return self.audit
        return AuditTarget("query.execute", self.norm.kind, self.norm.entity)

    def claim(self) -> bool:
        """The run (or the abandon) that comes first owns the place in line."""
        with self._claim:
            first, self._claimed = not self._claimed, True
            return first

    def abandon(self) -> None:
        """The caller left: if the query has not started, give its place in line back now
        (a run already under way gives it back itself when it ends)."""
        if self.claim():
            self.ticket.release()


Outcome = QueryResult | QueryFailure
_CLOSE_SECONDS = 5.0


def _caller_key(principal: Principal) -> tuple[Any, ...]:
    """What resolving and compiling a query depend on in its caller."""
    return (principal.user_id, *principal.permission_key)


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
        rates: UserRates | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.warehouses = warehouses
        self.app_db = app_db
        self.audit = AuditLog(app_db)  # off the request path; see sextant.store.audit
        self.secret = secret
        self.gate = gate
        self.limits = limits
        self.schemas = TableSchemas(warehouses)
        self._plans: LRU[Compiled] = LRU(512)
        self._checked: LRU[tuple[NormQuery, Resolved]] = LRU(1024)  # see prepare
        self.shapes = PlanShapes()  # plans reused across values: sextant.query.plans
        self.results = results
        self.rates = rates or UserRates(None, "query executions")
        # the threads queries run in: only a query whose turn came holds one (the gate's
        # total), a couple more while one ends and the next starts
        self._threads = ThreadPoolExecutor(gate.total + 2, thread_name_prefix="sextant-query")
        self._under_way: set[Execution] = set()

    def close(self) -> None:
        """Take no more queries, stop those under way and wait for them to end (at most
        ``_CLOSE_SECONDS``, so that the warehouses close after them); write the queued audit
        rows."""
        self._threads.shutdown(wait=False, cancel_futures=True)
        for execution in list(self._under_way):
            execution.cancel()
        ending = threading.Thread(target=self._threads.shutdown, daemon=True)
        ending.start()
        ending.join(_CLOSE_SECONDS)
        self.audit.close()

    # -- construct -------------------------------------------------------------------------
    def normalize(
        self, principal: Principal, request: QueryRequest
    ) -> tuple[NormQuery, tuple[str, ...]]:
        """The request checked for the caller (every problem at once), and what was ignored
        in it (unknown keys, parts a metric query does not take), said in words."""
        snapshot = self.snapshot()
        problems = Problems()
        warnings = [f"unknown key {key} was ignored" for key in unknown_keys(request)]
        norm = normalize(request, principal, snapshot, problems, warnings)
        resolve(norm, principal, snapshot, problems)  # raises with every problem at once
        return norm, tuple(warnings)

    def construct(self, principal: Principal, request: QueryRequest) -> tuple[str, tuple[str, ...]]:
        """The token of a checked request, and the warnings about it."""
        norm, warnings = self.normalize(principal, request)
        token = encode_token(norm, self.secret())
        if len(token) > MAX_TOKEN:  # the size caps of resolve keep tokens well below this
            raise UserError(f"The query is too large (its token passes {MAX_TOKEN} bytes).")
        return token, warnings

    # -- compile ---------------------------------------------------------------------------
    def compile(self, principal: Principal, norm: NormQuery) -> tuple[Resolved, Compiled]:
        """Resolve for ``principal`` and compile (sandboxes included), with the SQL text."""
        snapshot = self.snapshot()
        resolved = resolve(norm, principal, snapshot)
        return resolved, self._compile(principal, resolved, snapshot, reuse=False)

    def _compile(
        self,
        principal: Principal,
        resolved: Resolved,
        snapshot: Snapshot,
        page: Page | None = None,
        *,
        reuse: bool = True,
    ) -> Compiled:
        """Compiled with its SQL; with ``reuse``, from the plan of its shape when there is
        one (its expression is then the shape's, good for the schema only: run ``sql``)."""
        database = snapshot.databases[resolved.table.database_id]
        opener = self.schemas.opener(database.name, snapshot.version)

        def build(query: Resolved) -> Compiled:
            return compile_query(
                query,
                principal,
                snapshot,
                opener,
                raw_cap=self.limits.raw_rows,
                aggregated_cap=self.limits.aggregated_rows,
                page=page,
            )

        context = (
            principal.user_id,
            principal.groups,
            tuple(sorted(principal.attributes.items())),
            snapshot.version,
            page,
        )
        if not reuse:
            compiled = build(resolved)
            return replace(compiled, sql=to_sql(compiled.expr, database.engine))
        return self.shapes.compiled(resolved, context, database.engine, build)

    # -- prepare ---------------------------------------------------------------------------
    def prepare(self, principal: Principal, token: object) -> Prepared:
        """Check the token and the caller, and take a place in line (4xx here). A token this
        caller ran under this model version and secret is not decoded and resolved again
        (an agent runs the same token many times); only what succeeded is remembered."""
        snapshot = self.snapshot()
        secret = self.secret()
        key = None
        known = None
        if isinstance(token, str) and len(token) <= MAX_TOKEN:
            key = (token, secret, *_caller_key(principal), snapshot.version)
            known = self._checked.get(key)
        if known is None:
            norm = decode_token(token, secret)
            known = (norm, resolve(norm, principal, snapshot))
            if key is not None:
                self._checked.put(key, known)
        assert isinstance(token, str)  # decode_token refuses anything else
        norm, resolved = known
        return self.prepare_query(principal, norm, plan_key=token, checked=(snapshot, resolved))

    def prepare_query(
        self,
        principal: Principal,
        norm: NormQuery,
        *,
        plan_key: str | None = None,
        audit: AuditTarget | None = None,
        page: Page | None = None,
        checked: tuple[Snapshot, Resolved] | None = None,
    ) -> Prepared:
        """Resolve ``norm`` for the caller (every 4xx; ``checked``: resolved already, on that
        snapshot), count it against the caller's rate of executions and take a place in line
        (429 for either).

        Compiled plans are cached per query (its token, or its canonical form), caller (id,
        groups, attributes) and model version, so a repeated execution skips compilation but
        never crosses callers.
        """
        if checked is None:
            snapshot = self.snapshot()
            resolved = resolve(norm, principal, snapshot)
        else:
            snapshot, resolved = checked
        if page is not None:
            cap = self.limits.aggregated_rows if resolved.aggregated else self.limits.raw_rows
            if page.size > cap:
                raise InvalidRequestError(
                    f"page_size must be at most {cap} for this query (its row cap).",
                    errors={"page_size": f"at most {cap}"},
                )
        key = (
            plan_key or json.dumps(norm.to_json(), sort_keys=True, default=str),
            *_caller_key(principal),
            snapshot.version,
            None if page is None else (page.offset, page.size),
        )
        self.rates.take(principal.user_id)  # a checked query counts, a refused one not
        ticket = self.gate.admit(principal.user_id)
        return Prepared(principal, norm, resolved, snapshot, key, ticket, audit, page)

    # -- pages -----------------------------------------------------------------------------
    def prepare_page(self, principal: Principal, request: QueryPageRequest) -> Prepared:
        """The first page of a query, or the page a continuation token names (re-checked
        for the caller like a query token); every 4xx here."""
        if request.continuation_token is None:
            norm, warnings = self.normalize(principal, request)
            page = Page(0, request.page_size or DEFAULT_PAGE_SIZE)
        else:
            others = sorted(
                (request.model_fields_set | set(request.model_extra or {}))
                - {"continuation_token", "page_size"}
            )
            if others:
                raise InvalidRequestError(
                    "A continuation_token continues its query: send it alone (page_size may "
                    "change the size of the next pages).",
                    errors={key: "not allowed with continuation_token" for key in others},
                )
            continued = decode_continuation(
                request.continuation_token, self.secret(), principal.user_id
            )
            norm, warnings = continued.query, ()
            page = Page(continued.page.offset, request.page_size or continued.page.size)
        prepared = self.prepare_query(principal, norm, page=page)
        prepared.warnings = warnings
        return prepared

    def continuation(self, prepared: Prepared, result: QueryResult) -> str | None:
        """The token of the page after ``result``, when the result goes on."""
        if prepared.page is None or result.next_offset is None:
            return None
        after = Continuation(
            prepared.norm,
            Page(result.next_offset, prepared.page.size),
            prepared.principal.user_id,
            time.time() + self.limits.continuation_seconds,
        )
        return encode_continuation(after, self.secret())

    def forget_plans(self) -> None:
        self._plans.clear()
        self._checked.clear()
        self.shapes.clear()
        self.schemas.clear()

    # -- run -------------------------------------------------------------------------------
    async def run_async(self, prepared: Prepared, execution: Execution) -> Outcome:
        """:meth:`run` from the event loop: the turn is awaited there (a waiting query holds
        no thread), then the query runs in one of the engine's threads."""
        started = time.perf_counter()
        await prepared.ticket.wait_async(self.limits.timeout_seconds)
        loop = asyncio.get_running_loop()
        self._under_way.add(execution)
        try:
            return await loop.run_in_executor(self._threads, self.run, prepared, execution, started)
        finally:
            self._under_way.discard(execution)

    def run(
        self, prepared: Prepared, execution: Execution, started: float | None = None
    ) -> Outcome:
        """Run a prepared query to completion or failure (never raises for the warehouse):
        wait for its turn, compile, run; all within the time limit, counted from ``started``
        (a ``perf_counter`` reading; default now)."""
        if not prepared.claim():  # the caller left before it started
            return QueryFailure("cancelled", "The query was cancelled.")
        started = time.perf_counter() if started is None else started
        timeout = self.limits.timeout_seconds
        status, rows, error = "completed", None, None
        result: QueryResult | None = None
        detail: dict[str, object] | None = None
        database = prepared.snapshot.databases[prepared.resolved.table.database_id]
        try:
            if not prepared.ticket.wait(max(0.0, timeout - (time.perf_counter() - started))):
                raise QueryTimedOut()
            execution.check()
            compiled = self._plans.get(prepared.plan_key)
            if compiled is None:
                compiled = self._compile(
                    prepared.principal, prepared.resolved, prepared.snapshot, prepared.page
                )
                self._plans.put(prepared.plan_key, compiled)
            prepared.compiled = compiled
            zone = prepared.snapshot.query_settings.report_timezone
            key, cached = "", None
            if self.results is not None:  # the key costs a hash of the SQL: only when kept
                key = result_key(database.name, compiled.sql or "", repr((compiled.columns, zone)))
                cached = self.results.get(key)
            if cached is not None:
                result = QueryResult.from_cache(compiled.columns, cached)
                detail = {"cached": True}
            else:
                left = timeout - (time.perf_counter() - started)
                if left <= 0:
                    raise QueryTimedOut()
                table = self._in_warehouse(
                    database.name, database.engine, compiled, execution, left
                )
                page = compiled.page
                result = result_from_arrow(
                    table,
                    compiled.columns,
                    row_cap=compiled.row_cap if page is None else page.size,
                    cap_binds=compiled.cap_binds or page is not None,
                    running_ms=int((time.perf_counter() - started) * 1000),
                    zone=zone,
                )
                if self.results is not None:
                    self.results.put(key, result.to_cache())
            result = _paged(result, compiled)
            rows = result.row_count
        except QueryTimedOut:
            status = "timeout"
            error = f"The query ran longer than {timeout:g} s and was stopped."
        except QueryCancelled:
            status, error = "cancelled", "The query was cancelled."
        except Exception as exc:  # said without the engine's internals; the log has them
            reference = uuid.uuid4().hex[:12]
            status = "failed"
            error = (
                f"The warehouse is unavailable; try again later (reference {reference})."
                if isinstance(exc, WarehouseError)
                else f"The warehouse could not run the query (reference {reference})."
            )
            log.warning(
                "query failed for user %s (reference %s): %s",
                prepared.principal.user_id,
                reference,
                first_line(exc, 2000),
            )
        finally:
            prepared.ticket.release()
        duration = int((time.perf_counter() - started) * 1000)
        target = prepared.audit_target
        self.audit.record(
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

    def _in_warehouse(
        self, database: str, engine: str, compiled: Compiled, execution: Execution, budget: float
    ) -> Any:
        """Run the compiled SQL on a leased connection; a failure that may have broken the
        connection takes it (and only it) out of service."""
        with self.warehouses.lease(database) as (backend, lock):
            try:
                return run_query(
                    backend,
                    engine,
                    compiled.expr,
                    execution,
                    budget,
                    sql=compiled.sql,
                    compile_lock=lock,
                )
            except Exception as exc:
                stopped = isinstance(exc, QueryTimedOut | QueryCancelled)
                if not stopped and broken_connection(exc):
                    self.warehouses.discard(database, backend)
                raise


def _paged(result: QueryResult, compiled: Compiled) -> QueryResult:
    """A page's result: where the next page starts, or (on the last page) whether the cap
    cut the whole. A page is fetched with one row more than it shows, which tells."""
    page = compiled.page
    if page is None:
        return result
    more = result.truncated
    end = page.offset + page.size
    if more and end < compiled.row_cap:
        return replace(result, truncated=False, row_limit=None, next_offset=end)
    cut = more and compiled.cap_binds
    return replace(result, truncated=cut, row_limit=compiled.row_cap if cut else None)
