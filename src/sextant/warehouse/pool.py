"""Open warehouse connections, shared by requests: a small pool per database.

Connections open lazily. DuckDB (a cursor per query on one connection) and Spark (one session
per process) share a single connection; the server engines and SQLite get up to ``size``
connections, each used by one request at a time, so queries run side by side.

A connection is closed only when no request holds it: discarding one (after a failure that
broke it) or the whole database's (after an outage) takes it out of service at once, and the
last request still using it closes it when it is done. One request's failure therefore never
ends another's query.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ibis.backends import BaseBackend

from sextant.errors import WarehouseError
from sextant.model.validate import engine_of
from sextant.warehouse.connection import connect, connect_snapshot, file_path
from sextant.warehouse.engines import profile
from sextant.warehouse.snapshots import SnapshotWatch

__all__ = ["Warehouses", "broken_connection"]

log = logging.getLogger("sextant.warehouse")

_BROKEN = frozenset(
    {
        "ConnectionException",  # DuckDB
        "IOException",
        "FatalException",
        "InternalException",
        "OperationalError",  # DB-API: psycopg, mysqlclient, sqlite3
        "InterfaceError",
    }
)


def broken_connection(exc: BaseException) -> bool:
    """Whether a failure may have broken the connection it ran on (as opposed to a query the
    engine refused: a bad cast, a division by zero), by the driver's error class."""
    if isinstance(exc, ConnectionError | OSError):
        return True
    return any(cls.__name__ in _BROKEN for cls in type(exc).__mro__)


@dataclass
class _Slot:
    lock: threading.Lock = field(default_factory=threading.Lock)
    backend: BaseBackend | None = None


@dataclass
class _Pool:
    size: int
    shared: bool  # one connection for every request (the engine runs queries side by side)
    slots: list[_Slot] = field(default_factory=list)
    free: threading.Semaphore = field(init=False)  # pooled: slots not held by a request
    opening: threading.Lock = field(default_factory=threading.Lock)  # shared: one connect

    def __post_init__(self) -> None:
        self.free = threading.Semaphore(self.size)


def _close(backend: BaseBackend | None) -> None:
    if backend is not None:
        with contextlib.suppress(Exception):  # already broken
            backend.disconnect()


class Warehouses:
    def __init__(
        self,
        urls: Callable[[], dict[str, str]],
        base_dir: Callable[[], Path | None],
        size: int = 8,
        wait_seconds: float = 60.0,
        snapshot_dir: Path | None = None,
        refresh_seconds: float = 1.0,
    ) -> None:
        """``snapshot_dir``: where DuckDB files are copied so that serving them never locks
        out a writer (:mod:`sextant.warehouse.snapshots`); None opens the files themselves."""
        self._urls = urls
        self._base_dir = base_dir
        self._size = max(1, size)
        self._wait_seconds = wait_seconds
        self._snapshot_dir = snapshot_dir
        self._refresh_seconds = refresh_seconds
        self._watches: dict[str, SnapshotWatch | None] = {}
        self._pools: dict[str, _Pool] = {}
        self._guard = threading.Lock()
        self._holders: dict[int, int] = {}  # id(backend) -> requests holding it
        self._doomed: dict[int, BaseBackend] = {}  # to close when its last holder leaves

    def _pool(self, database: str) -> _Pool:
        with self._guard:
            pool = self._pools.get(database)
            if pool is None:
                engine = engine_of(self._urls()[database]) or "duckdb"
                pool = _Pool(self._size, profile(engine).shared_connection)
                self._pools[database] = pool
            return pool

    # -- who holds what (under the guard) ----------------------------------------------------
    def _hold(self, backend: BaseBackend) -> None:
        with self._guard:
            self._holders[id(backend)] = self._holders.get(id(backend), 0) + 1

    def _release(self, backend: BaseBackend) -> None:
        with self._guard:
            left = self._holders.get(id(backend), 1) - 1
            if left > 0:
                self._holders[id(backend)] = left
                return
            self._holders.pop(id(backend), None)
            doomed = self._doomed.pop(id(backend), None)
        _close(doomed)

    def _doom(self, backend: BaseBackend | None) -> BaseBackend | None:
        """Close ``backend`` when nobody holds it; returns it when it can be closed now.
        Under the guard."""
        if backend is None:
            return None
        if self._holders.get(id(backend)):
            self._doomed[id(backend)] = backend
            return None
        return backend

    # -- leases ------------------------------------------------------------------------------
    def _take(self, pool: _Pool) -> _Slot:
        """A slot nobody holds (the semaphore guarantees one exists or may be added)."""
        with self._guard:
            for slot in pool.slots:
                if slot.lock.acquire(blocking=False):
                    return slot
            slot = _Slot()
            slot.lock.acquire()
            pool.slots.append(slot)
            return slot

    def _watch(self, database: str) -> SnapshotWatch | None:
        """The snapshot watch of a DuckDB file database (None: other engines, in-memory
        DuckDB, or snapshots turned off)."""
        with self._guard:
            if database in self._watches:
                return self._watches[database]
        url = self._urls()[database]
        watch = None
        if self._snapshot_dir is not None and engine_of(url) == "duckdb":
            source = file_path(url, self._base_dir())
            if source is not None:
                watch = SnapshotWatch(source, self._refresh_seconds)
        with self._guard:
            return self._watches.setdefault(database, watch)

    def _open(self, database: str, slot: _Slot) -> BaseBackend:
        if slot.backend is None:
            watch = self._watch(database)
            if watch is not None and self._snapshot_dir is not None:
                slot.backend, watch.taken = connect_snapshot(watch.source, self._snapshot_dir)
            else:
                slot.backend = connect(self._urls()[database], self._base_dir())
        return slot.backend

    def _renew(self, slot: _Slot, watch: SnapshotWatch) -> None:
        """Move later queries to a new snapshot; the old one closes when its queries end. A
        snapshot that cannot be taken now (the writer keeps changing the file, a full disk)
        leaves the old one serving, and is tried again at the next look."""
        assert self._snapshot_dir is not None
        try:
            fresh, taken = connect_snapshot(watch.source, self._snapshot_dir)
        except WarehouseError as exc:
            log.warning("keeping the previous snapshot of %s: %s", watch.source, exc)
            return
        with self._guard:
            closable = self._doom(slot.backend)
            slot.backend = fresh
        watch.taken = taken
        _close(closable)

    @contextmanager
    def lease(self, database: str) -> Iterator[tuple[BaseBackend, threading.Lock]]:
        """A connection of the database for one query, and the lock that guards statements on
        it. Pooled engines: the connection is this caller's alone for the block. Shared ones
        (DuckDB): every caller gets the same connection, and the runner decides how to share."""
        pool = self._pool(database)
        if pool.shared:
            with self._guard:
                if not pool.slots:
                    pool.slots.append(_Slot())
                slot = pool.slots[0]
            with pool.opening:
                watch = self._watch(database)
                if slot.backend is not None and watch is not None and watch.stale():
                    self._renew(slot, watch)  # the writer committed: a new snapshot
                backend = self._open(database, slot)
                self._hold(backend)
            try:
                yield backend, slot.lock
            finally:
                self._release(backend)
            return
        if not pool.free.acquire(timeout=self._wait_seconds):
            raise WarehouseError(
                f"all {pool.size} connections to {database!r} stayed busy for "
                f"{self._wait_seconds:g} s"
            )
        try:
            slot = self._take(pool)
            try:
                backend = self._open(database, slot)
                self._hold(backend)
                try:
                    yield backend, threading.Lock()
                finally:
                    self._release(backend)
            finally:
                slot.lock.release()
        finally:
            pool.free.release()

    @contextmanager
    def connection(self, database: str) -> Iterator[BaseBackend]:
        """A connection of the database, held exclusively for the duration of the block."""
        with self.lease(database) as (backend, lock), lock:
            yield backend

    # -- taking connections out of service ---------------------------------------------------
    def discard(self, database: str, backend: BaseBackend | None = None) -> None:
        """Take ``backend`` (one that failed in a way that may have broken it), or every
        connection of the database (after an outage), out of service: the next use
        reconnects, and each closes as soon as no request holds it, so no running query is
        cut."""
        pool = self._pool(database)
        closable: list[BaseBackend] = []
        with self._guard:
            for slot in pool.slots:
                if slot.backend is not None and backend in (None, slot.backend):
                    if (now := self._doom(slot.backend)) is not None:
                        closable.append(now)
                    slot.backend = None
        for item in closable:
            _close(item)

    def close(self) -> None:
        """Close every connection nobody holds; held ones close when their query ends."""
        with self._guard:
            names = list(self._pools)
        for name in names:
            self.discard(name)
        with self._guard:
            self._pools.clear()
            self._watches.clear()
