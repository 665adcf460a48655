"""Running a compiled query so that it can be stopped: timeouts and cancellation, per engine.

DuckDB runs each query on its own cursor (a connection to the same database), so queries
run side by side and ``interrupt()`` stops one within a millisecond. Engines without a
cancellation hook here fall back to Ibis' own execution (no early stop).
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend

__all__ = ["Execution", "QueryCancelled", "QueryTimedOut", "run_query"]


class QueryCancelled(Exception):
    """The caller went away, so the query was stopped."""


class QueryTimedOut(Exception):
    """The query ran past its time limit and was stopped."""


class Execution:
    """A handle on one running query: cancel it from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stop: Callable[[], None] | None = None
        self.cancelled = False
        self.timed_out = False
        self.finished = threading.Event()
        self.budget_ms = 0.0  # the time left for the statement, for engines that enforce it

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
        with self._lock:
            if self.finished.is_set():
                return
            if timed_out:
                self.timed_out = True
            else:
                self.cancelled = True
            stop = self._stop
        if stop is not None:
            stop()

    def check(self) -> None:
        if self.timed_out:
            raise QueryTimedOut()
        if self.cancelled:
            raise QueryCancelled()


def _duckdb(backend: BaseBackend, sql: str, execution: Execution, lock: threading.Lock) -> pa.Table:
    del lock  # every query gets its own cursor: queries run side by side
    cursor = backend.con.cursor()
    try:
        execution.bind(cursor.interrupt)
        execution.check()
        result: Any = cursor.execute(sql)
        return result.to_arrow_table()
    except Exception:
        execution.check()  # an interrupt surfaces as a DuckDB error: say why it happened
        raise
    finally:
        cursor.close()


def _postgres(
    backend: BaseBackend, sql: str, execution: Execution, lock: threading.Lock
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
            execution.check()
            raise
    columns: list[list[Any]] = [[row[i] for row in rows] for i in range(len(names))]
    return pa.table({f"c{i}": values for i, values in enumerate(columns)}).rename_columns(names)


def _spark(backend: BaseBackend, sql: str, execution: Execution, lock: threading.Lock) -> pa.Table:
    del lock  # Spark schedules queries side by side; each is interrupted by its own tag
    from sextant.warehouse.spark import run_spark

    return run_spark(backend, sql, execution)


_RUNNERS: dict[str, Callable[[BaseBackend, str, Execution, threading.Lock], pa.Table]] = {
    "duckdb": _duckdb,
    "postgres": _postgres,
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
            self._counter += 1
            heapq.heappush(self._deadlines, (time.monotonic() + timeout, self._counter, execution))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="sextant-watchdog", daemon=True
                )
                self._thread.start()
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
    try:
        runner = _RUNNERS.get(engine)
        if runner is None:
            execution.check()
            if compile_lock is not None:
                with compile_lock:
                    return expr.to_pyarrow()
            return expr.to_pyarrow()
        text = sql if sql is not None else str(backend.compile(expr))
        return runner(backend, text, execution, compile_lock or threading.Lock())
    finally:
        execution.finished.set()
