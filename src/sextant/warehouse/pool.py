"""Open warehouse connections, one per database, shared by requests.

Connections open lazily and are used under a lock: an Ibis backend is not safe for concurrent
statements on one connection.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ibis.backends import BaseBackend

from sextant.warehouse.connection import connect

__all__ = ["Warehouses"]


class Warehouses:
    def __init__(
        self, urls: Callable[[], dict[str, str]], base_dir: Callable[[], Path | None]
    ) -> None:
        self._urls = urls
        self._base_dir = base_dir
        self._connections: dict[str, BaseBackend] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def connection(self, database: str) -> Iterator[BaseBackend]:
        """The database's connection, held exclusively for the duration of the block."""
        with self._guard:
            lock = self._locks.setdefault(database, threading.Lock())
        with lock:
            con = self._connections.get(database)
            if con is None:
                con = connect(self._urls()[database], self._base_dir())
                self._connections[database] = con
            yield con

    def acquire(self, database: str) -> tuple[BaseBackend, threading.Lock]:
        """The database's connection (opened if needed) and the lock guarding it."""
        with self.connection(database) as con:
            pass
        return con, self._locks[database]

    def discard(self, database: str) -> None:
        """Drop a connection that failed, so that the next use reconnects."""
        with self._guard:
            lock = self._locks.setdefault(database, threading.Lock())
        with lock:
            con = self._connections.pop(database, None)
        if con is not None:
            with contextlib.suppress(Exception):  # already broken
                con.disconnect()

    def close(self) -> None:
        with self._guard:
            for con in self._connections.values():
                con.disconnect()
            self._connections.clear()
