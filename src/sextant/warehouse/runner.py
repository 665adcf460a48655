"""Running a compiled query so that it can be stopped: timeouts and cancellation, per engine.

DuckDB runs each query on its own cursor (a connection to the same database), so queries
run side by side and ``interrupt()`` stops one within a millisecond. Engines without a
cancellation hook here fall back to Ibis' own execution (no early stop).
"""

from __future__ import annotations

import threading
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


def _duckdb(backend: BaseBackend, sql: str, execution: Execution) -> pa.Table:
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


_RUNNERS: dict[str, Callable[[BaseBackend, str, Execution], pa.Table]] = {"duckdb": _duckdb}


def run_query(
    backend: BaseBackend,
    engine: str,
    expr: ir.Table,
    execution: Execution,
    timeout: float,
    *,
    compile_lock: threading.Lock | None = None,
) -> pa.Table:
    """Rows of ``expr``; raises QueryTimedOut / QueryCancelled when stopped."""
    timer = threading.Timer(timeout, execution.time_out)
    timer.daemon = True
    timer.start()
    try:
        runner = _RUNNERS.get(engine)
        if runner is None:
            execution.check()
            if compile_lock is not None:
                with compile_lock:
                    return expr.to_pyarrow()
            return expr.to_pyarrow()
        sql = str(backend.compile(expr))
        return runner(backend, sql, execution)
    finally:
        timer.cancel()
        execution.finished.set()
