"""Open warehouse connections, shared by requests: a small pool per database.

Connections open lazily. DuckDB (a cursor per query on one connection) and Spark (one session
per process) share a single connection; the server engines and SQLite get up to ``size``
connections, each used by one request at a time, so queries run side by side. A failure
discards the database's connections: idle ones close at once, busy ones when they come back.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ibis.backends import BaseBackend

from sextant.errors import WarehouseError
from sextant.model.validate import engine_of
from sextant.warehouse.connection import connect
from sextant.warehouse.engines import profile

__all__ = ["Warehouses"]


@dataclass
class _Slot:
    lock: threading.Lock = field(default_factory=threading.Lock)
    backend: BaseBackend | None = None
    generation: int = 0


@dataclass
class _Pool:
    size: int
    shared: bool  # one connection for every request (the engine runs queries side by side)
    slots: list[_Slot] = field(default_factory=list)
    free: threading.Semaphore = field(init=False)  # pooled: slots not held by a request
    opening: threading.Lock = field(default_factory=threading.Lock)  # shared: one connect
    generation: int = 0

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
    ) -> None:
        self._urls = urls
        self._base_dir = base_dir
        self._size = max(1, size)
        self._wait_seconds = wait_seconds
        self._pools: dict[str, _Pool] = {}
        self._guard = threading.Lock()

    def _pool(self, database: str) -> _Pool:
        with self._guard:
            pool = self._pools.get(database)
            if pool is None:
                engine = engine_of(self._urls()[database]) or "duckdb"
                pool = _Pool(self._size, profile(engine).shared_connection)
                self._pools[database] = pool
            return pool

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

    def _open(self, database: str, pool: _Pool, slot: _Slot) -> BaseBackend:
        if slot.backend is not None and slot.generation != pool.generation:
            if not pool.shared:  # a shared connection may still serve a query: let it go
                _close(slot.backend)
            slot.backend = None
        if slot.backend is None:
            generation = pool.generation
            slot.backend = connect(self._urls()[database], self._base_dir())
            slot.generation = generation
        return slot.backend

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
                backend = self._open(database, pool, slot)
            yield backend, slot.lock
            return
        if not pool.free.acquire(timeout=self._wait_seconds):
            raise WarehouseError(
                f"all {pool.size} connections to {database!r} stayed busy for "
                f"{self._wait_seconds:g} s"
            )
        try:
            slot = self._take(pool)
            try:
                yield self._open(database, pool, slot), threading.Lock()
            finally:
                if slot.generation != pool.generation:  # discarded while in use
                    _close(slot.backend)
                    slot.backend = None
                slot.lock.release()
        finally:
            pool.free.release()

    @contextmanager
    def connection(self, database: str) -> Iterator[BaseBackend]:
        """A connection of the database, held exclusively for the duration of the block."""
        with self.lease(database) as (backend, lock), lock:
            yield backend

    def _retire(self, pool: _Pool) -> list[BaseBackend]:
        """A new generation: idle connections are taken out (returned, to be closed), busy ones
        close when their holder gives them back. Under the guard, so that no lease sees a
        slot locked here and adds another."""
        pool.generation += 1
        idle: list[BaseBackend] = []
        for slot in pool.slots:
            if slot.lock.acquire(blocking=False):
                if slot.backend is not None:
                    idle.append(slot.backend)
                    slot.backend = None
                slot.lock.release()
        return idle

    def discard(self, database: str) -> None:
        """Drop the database's connections after a failure, so that the next use reconnects."""
        pool = self._pool(database)
        with self._guard:
            idle = self._retire(pool)
        for backend in idle:
            _close(backend)

    def close(self) -> None:
        """Close every idle connection; busy ones close when their query ends."""
        with self._guard:
            pools = list(self._pools.values())
            self._pools.clear()
            idle = [backend for pool in pools for backend in self._retire(pool)]
        for backend in idle:
            _close(backend)
