"""The audit log: who ran what, how long it took, how it ended.

Rows are written off the request path: a request puts its row on a bounded queue and a writer
thread inserts what has gathered in one transaction (it lingers ``linger`` seconds after a row
for others, so that a busy server commits a few times a second, not once a request). Nothing is
dropped: when the queue is full the request writes its own row (back-pressure instead of loss); a
failed insert is retried; the queue is drained when the service closes, when the app shuts down
and when the interpreter exits. ``flush()`` waits until every row recorded so far is written.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import logging
import queue
import threading
import time
from typing import Any

from sqlalchemy import Engine, insert

from sextant.store import schema as s

__all__ = ["AuditLog"]

log = logging.getLogger("sextant.audit")

_COLUMNS = ("user_id", "action", "entity_type", "entity_id", "status", "duration_ms", "row_count")


class AuditLog:
    def __init__(
        self,
        engine: Engine,
        capacity: int = 10_000,
        batch: int = 500,
        attempts: int = 5,
        linger: float = 0.05,
    ) -> None:
        self.engine = engine
        self.batch = batch
        self.linger = linger
        self.attempts = attempts
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(capacity)
        self._thread: threading.Thread | None = None
        self._closed = False
        self._guard = threading.Lock()
        self._registered = False
        self._hurry = threading.Event()  # set while someone waits for the queue to empty
        self._hurrying = 0  # how many wait (under the guard)

    def record(
        self,
        *,
        user_id: int | None,
        action: str,
        status: str,
        entity_type: str | None = None,
        entity_id: int | None = None,
        duration_ms: int | None = None,
        row_count: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        row = {
            "at": _dt.datetime.now(_dt.UTC),
            "user_id": user_id,
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "status": status,
            "duration_ms": duration_ms,
            "row_count": row_count,
            "detail": detail,
        }
        if not self._start():  # closed: no writer any more, the caller writes
            self._write_retrying([row])
            return
        try:
            self._queue.put_nowait(row)
        except queue.Full:  # the writer is behind: this request writes its own row
            self._write([row])

    def flush(self) -> None:
        """Return once the queue is empty: every row recorded so far is written (under a
        steady flow of new rows it waits for those too)."""
        if self._thread is not None:
            with self._guard:
                self._hurrying += 1
                self._hurry.set()
            try:
                self._queue.join()
            finally:
                with self._guard:
                    self._hurrying -= 1
                    if not self._hurrying and not self._closed:
                        self._hurry.clear()

    def close(self) -> None:
        """Write what is queued and stop the writer (idempotent); rows recorded afterwards are
        written by their callers."""
        with self._guard:
            self._closed = True
            thread = self._thread
            if thread is not None and thread.is_alive():
                self._queue.put(None)  # under the guard: no second writer can start
                self._hurry.set()
        if thread is not None:
            thread.join(timeout=60)
        if self._registered:
            atexit.unregister(self.close)
            self._registered = False

    # -- the writer --------------------------------------------------------------------------
    def _start(self) -> bool:
        """Start the writer if needed; False once closed."""
        if self._thread is not None and not self._closed:
            return True
        with self._guard:
            if self._closed:
                return False
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sextant-audit", daemon=True)
                self._thread.start()
                atexit.register(self.close)
                self._registered = True
            return True

    def _run(self) -> None:
        while True:
            first = self._queue.get()  # idle: the next row wakes the writer
            rows = [] if first is None else [first]
            stop = first is None
            if not stop and self._queue.qsize() < self.batch:
                # let rows gather without waking for each (a woken writer takes the GIL from
                # the requests); flush and close cut the wait short
                self._hurry.wait(self.linger)
            while not stop and len(rows) < self.batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                else:
                    rows.append(item)
            try:
                if rows:
                    self._write_retrying(rows)
            finally:
                for _ in range(len(rows) + (1 if stop else 0)):
                    self._queue.task_done()
            if stop:
                return

    def _write_retrying(self, rows: list[dict[str, Any]]) -> None:
        for attempt in range(self.attempts):
            try:
                self._write(rows)
                return
            except Exception:  # the app database is down or busy, or one row is bad
                if attempt < self.attempts - 1:
                    time.sleep(0.2 * 2**attempt)
        for row in rows:  # one row that cannot be written must not take the others with it
            try:
                self._write([row])
            except Exception as exc:
                log.error("an audit row could not be written (%s): %r", exc, row)

    def _write(self, rows: list[dict[str, Any]]) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(s.audit_log), rows)
