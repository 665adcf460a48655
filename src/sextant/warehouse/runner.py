"""Running a compiled query so that it can be stopped: timeouts and cancellation, per engine.

DuckDB runs each query on its own cursor (a connection to the same database), so queries
run side by side and ``interrupt()`` stops one within a millisecond. PostgreSQL gets a
statement_timeout and ``cancel()``. SQLite and MySQL/MariaDB run one
statement at a time per connection (DB-API, no pandas), stopped by the connection's cancel
hook: SQLite's ``interrupt()``, MySQL/MariaDB's ``KILL QUERY`` (with max_statement_time as a
backstop).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import heapq
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa
import sqlglot.expressions as sge
from ibis.backends import BaseBackend

from sextant.warehouse.connection import cancel_hook, mysql_set

__all__ = ["Execution", "QueryCancelled", "QueryTimedOut", "arrow_of", "run_query"]

log = logging.getLogger(__name__)


class QueryCancelled(Exception):
    """The caller went away, so the query was stopped."""


class QueryTimedOut(Exception):
    """The query ran past its time limit and was stopped."""


class Execution:
    """A handle on one running query: cancel it from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Lock()
        self._stop: Callable[[], None] | None = None
        self.cancelled = False
        self.timed_out = False
        self.finished = threading.Event()
        self.budget_ms = 0.0  # the time left for the statement, for engines that enforce it
        self.deadline = float("inf")  # time.monotonic() when the watchdog stops the statement

    def bind(self, stop: Callable[[], None]) -> None:
        with self._lock:
            self._stop = stop
            pending = self.cancelled or self.timed_out
        if pending:
            stop()

    def cancel(self) -> None:
        self._halt(timed_out=False)

    def time_out(self) -> None:
        self._halt(timed_out=True)

    def _halt(self, *, timed_out: bool) -> None:
        # Held until the stop has done its work, so that finish() can wait for it: a late
        # KILL QUERY must not hit the next statement on the same connection.
        with self._stopping:
            with self._lock:
                if self.finished.is_set():
                    return
                if timed_out:
                    self.timed_out = True
                else:
                    self.cancelled = True
                stop = self._stop
            if stop is not None:
                try:
                    stop()
                except Exception:  # the engine refused or is gone: the deadline still holds
                    log.warning("could not stop a running statement", exc_info=True)

    def finish(self) -> None:
        """The statement has ended: no stop starts from now on, and one under way is over."""
        with self._stopping:
            self.finished.set()

    def check(self) -> None:
        if self.timed_out:
            raise QueryTimedOut()
        if self.cancelled:
            raise QueryCancelled()

    def check_failed(self) -> None:
        """After a driver error: say so if the statement was stopped, or if the engine's own
        time limit (a backstop set to the same budget) beat the watchdog to it."""
        self.check()
        if time.monotonic() >= self.deadline:
            raise QueryTimedOut()


def _duckdb(
    backend: BaseBackend, expr: ir.Table, sql: str, execution: Execution, lock: threading.Lock
) -> pa.Table:
    del expr, lock  # every query gets its own cursor: queries run side by side
    cursor = backend.con.cursor()
    try:
        execution.bind(cursor.interrupt)
        execution.check()
        result: Any = cursor.execute(sql)
        return _arrow_table(result)
    except Exception:
        execution.check_failed()  # an interrupt surfaces as a DuckDB error: say why
        raise
    finally:
        cursor.close()


def _arrow_table(result: Any) -> pa.Table:
    """A DuckDB result as one Arrow table. Read through a record batch reader: the same table
    as ``to_arrow_table()`` (same schema and values), without its fixed cost of about 0.2 ms
    per query, which was more than a small query's whole run."""
    return result.to_arrow_reader().read_all()


def arrow_of(expr: ir.Table) -> pa.Table:
    """Rows of ``expr`` as Arrow, typed as Ibis types them, on its own backend, for
    sextant's own scans (catalog, statistics). On DuckDB straight from a cursor of the
    compiled SQL, cast to the expression's schema (a cursor's session keeps the host's time
    zone, and sums of integers come back as decimals): Ibis' ``to_pyarrow`` there imports
    pandas for its conversions, 50 MB resident in every server process."""
    backend: Any = ibis.get_backend(expr)
    if backend.name != "duckdb":
        return expr.to_pyarrow()
    cursor = backend.con.cursor()
    try:
        table = _arrow_table(cursor.execute(str(backend.compile(expr))))
    finally:
        cursor.close()
    return table.cast(expr.schema().to_pyarrow())


def _postgres(
    backend: BaseBackend, expr: ir.Table, sql: str, execution: Execution, lock: threading.Lock
) -> pa.Table:
    """On the backend's connection (one statement at a time), with a server-side
    statement_timeout as a backstop and ``cancel()`` for timeouts and disconnects."""
    from psycopg import sql as pgsql

    conn: Any = backend.con
    with lock:
        execution.bind(conn.cancel_safe)
        execution.check()
        try:
            with conn.transaction(), conn.cursor() as cursor:
                limit = pgsql.SQL("SET LOCAL statement_timeout = {}").format(
                    pgsql.Literal(int(execution.budget_ms))
                )
                cursor.execute(limit)
                cursor.execute(sql)
                names = [column.name for column in cursor.description or ()]
                rows = cursor.fetchall()
        except Exception:
            execution.check_failed()
            raise
    del expr
    columns: list[list[Any]] = [[row[i] for row in rows] for i in range(len(names))]
    return _arrow(names, columns)


def _mysql_limit(conn: Any, budget_ms: float | None) -> None:
    """The session's server-side statement limit, a backstop to KILL QUERY: MariaDB's
    max_statement_time (seconds), MySQL's max_execution_time (milliseconds); None: no limit."""
    mariadb = "mariadb" in str(conn.get_server_info()).lower()  # the server's flavour
    ms = budget_ms or 0.0
    name, value = (
        ("max_statement_time", round(ms / 1000, 3)) if mariadb else ("max_execution_time", int(ms))
    )
    with conn.cursor() as cursor:
        cursor.execute(mysql_set(name, sge.convert(value)))


def _mysql_budget(conn: Any, execution: Execution) -> None:
    _mysql_limit(conn, execution.budget_ms)


def _mysql_unlimited(conn: Any) -> None:
    """The limit is the session's: lift it, so the connection's next user (a compile, a
    fingerprint scan) does not inherit this query's budget."""
    _mysql_limit(conn, None)


def _timestamp(value: Any) -> Any:
    if isinstance(value, str):
        return _dt.datetime.fromisoformat(value)
    if type(value) is _dt.date:  # MySQL's quarter truncation is a DATE
        return _dt.datetime(value.year, value.month, value.day)
    return value


def _from_text(dtype: dt.DataType) -> Callable[[Any], Any] | None:
    """Dates and timestamps that arrive as ISO text, booleans as 0/1: the Python value the
    column's Ibis type promises."""
    if dtype.is_timestamp():
        return _timestamp
    if dtype.is_date():
        return lambda v: _dt.date.fromisoformat(v[:10]) if isinstance(v, str) else v
    if dtype.is_boolean():
        return lambda v: bool(v) if isinstance(v, int) else v
    if dtype.is_time():
        return _time
    return None


def _time(value: Any) -> Any:
    """MySQL's TIME arrives as a timedelta, SQLite's as text."""
    if isinstance(value, _dt.timedelta):
        return (_dt.datetime.min + value).time()
    if isinstance(value, str):
        return _dt.time.fromisoformat(value)
    return value


def _dbapi(
    backend: BaseBackend,
    expr: ir.Table,
    sql: str,
    execution: Execution,
    lock: threading.Lock,
    *,
    prepare: Callable[[Any, Execution], None] | None = None,
    restore: Callable[[Any], None] | None = None,
) -> pa.Table:
    """One statement at a time on the backend's DB-API connection, stopped by its cancel
    hook; values that come back as text (SQLite's times, MySQL's formatted truncations) are
    read by the expression's types."""
    conn: Any = backend.con
    stop = cancel_hook(backend)
    with lock:
        if stop is not None:
            execution.bind(stop)
        execution.check()
        try:
            if prepare is not None:
                prepare(conn, execution)
            cursor = conn.cursor()
            try:
                cursor.execute(sql)
                names = [column[0] for column in cursor.description or ()]
                rows = cursor.fetchall()
            finally:
                cursor.close()
        except Exception:
            execution.check_failed()  # a stopped statement surfaces as a driver error
            raise
        finally:
            if restore is not None:
                execution.finish()  # a late stop must not land on the restoring statement
                with contextlib.suppress(Exception):  # a broken connection is discarded
                    restore(conn)
    columns: list[list[Any]] = [[row[i] for row in rows] for i in range(len(names))]
    for i, dtype in enumerate(expr.schema().types):
        convert = _from_text(dtype)
        if convert is not None:
            columns[i] = [None if v is None else convert(v) for v in columns[i]]
    return _arrow(names, columns)


def _arrow(names: list[str], columns: list[list[Any]]) -> pa.Table:
    return pa.table({f"c{i}": values for i, values in enumerate(columns)}).rename_columns(names)


def _sqlite(
    backend: BaseBackend, expr: ir.Table, sql: str, execution: Execution, lock: threading.Lock
) -> pa.Table:
    return _dbapi(backend, expr, sql, execution, lock)


def _mysql(
    backend: BaseBackend, expr: ir.Table, sql: str, execution: Execution, lock: threading.Lock
) -> pa.Table:
    return _dbapi(
        backend, expr, sql, execution, lock, prepare=_mysql_budget, restore=_mysql_unlimited
    )


def _spark(
    backend: BaseBackend, expr: ir.Table, sql: str, execution: Execution, lock: threading.Lock
) -> pa.Table:
    del expr, lock  # Spark schedules queries side by side; each is interrupted by its own tag
    from sextant.warehouse.spark import run_spark

    return run_spark(backend, sql, execution)


_Runner = Callable[[BaseBackend, ir.Table, str, Execution, threading.Lock], pa.Table]
_RUNNERS: dict[str, _Runner] = {
    "duckdb": _duckdb,
    "postgres": _postgres,
    "sqlite": _sqlite,
    "mysql": _mysql,
    "spark": _spark,
}


class Watchdog:
    """One thread that times out every running query when its deadline passes."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._deadlines: list[tuple[float, int, Execution]] = []
        self._counter = 0
        self._thread: threading.Thread | None = None

    def watch(self, execution: Execution, timeout: float) -> None:
        with self._cond:
            # finished queries leave from the front here, a few at a time: the thread is no
            # longer woken for each query, and would find a long-grown heap to clear at once
            while self._deadlines and self._deadlines[0][2].finished.is_set():
                heapq.heappop(self._deadlines)
            self._counter += 1
            entry = (time.monotonic() + timeout, self._counter, execution)
            heapq.heappush(self._deadlines, entry)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="sextant-watchdog", daemon=True
                )
                self._thread.start()
            elif self._deadlines[0] is entry:
                # only a deadline earlier than every other one changes the watchdog's sleep:
                # waking it for each query cost the query a GIL hand-off
                self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._deadlines and self._deadlines[0][2].finished.is_set():
                    heapq.heappop(self._deadlines)
                if not self._deadlines:
                    self._cond.wait(timeout=30)
                    if not self._deadlines:
                        self._thread = None
                        return
                    continue
                deadline, _, execution = self._deadlines[0]
                now = time.monotonic()
                if deadline > now:
                    self._cond.wait(timeout=deadline - now)
                    continue
                heapq.heappop(self._deadlines)
                threading.Thread(target=execution.time_out, daemon=True).start()


_WATCHDOG = Watchdog()


def run_query(
    backend: BaseBackend,
    engine: str,
    expr: ir.Table,
    execution: Execution,
    timeout: float,
    *,
    sql: str | None = None,
    compile_lock: threading.Lock | None = None,
) -> pa.Table:
    """Rows of ``expr`` (or of ``sql``, its compiled text); raises QueryTimedOut or
    QueryCancelled when stopped."""
    _WATCHDOG.watch(execution, timeout)
    execution.budget_ms = max(1.0, timeout * 1000)
    execution.deadline = time.monotonic() + timeout
    try:
        runner = _RUNNERS.get(engine)
        if runner is None:  # no way to stop it early: Ibis' own execution
            execution.check()
            with compile_lock or threading.Lock():
                return expr.to_pyarrow()
        text = sql if sql is not None else str(backend.compile(expr))
        return runner(backend, expr, text, execution, compile_lock or threading.Lock())
    finally:
        execution.finish()
