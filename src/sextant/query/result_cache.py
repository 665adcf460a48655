"""Caching finished results for a short time, in-process or shared through Redis.

The key is the database and the exact SQL that ran — which includes the caller's sandbox
predicates — plus the output columns, so two callers share an entry only when they would run
the very same statement. Off unless ``SEXTANT_RESULT_CACHE_SECONDS`` is set.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

__all__ = ["Entry", "MemoryResultCache", "RedisResultCache", "ResultCache", "result_key"]

_MAX_ENTRY_BYTES = 4 * 1024 * 1024


def result_key(database: str, sql: str, columns: str) -> str:
    digest = hashlib.sha256("\0".join((database, sql, columns)).encode("utf-8")).hexdigest()
    return f"sextant:result:{digest}"


Entry = dict[str, Any]
"""A finished result's rows and figures (JSON-ready), see ``QueryResult.to_cache``."""


class ResultCache(Protocol):
    def get(self, key: str) -> Entry | None: ...

    def put(self, key: str, entry: Entry) -> None: ...

    def close(self) -> None: ...


class MemoryResultCache:
    def __init__(self, seconds: float, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[float, int, Entry]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            if found[0] < time.monotonic():
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return found[2]

    def put(self, key: str, entry: Entry) -> None:
        size = len(json.dumps(entry["rows"], separators=(",", ":")))
        if size > _MAX_ENTRY_BYTES:
            return
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = (time.monotonic() + self.seconds, size, entry)
            self._bytes += size
            while self._bytes > self.max_bytes and self._items:
                self._drop(next(iter(self._items)))

    def _drop(self, key: str) -> None:
        _, size, _ = self._items.pop(key)
        self._bytes -= size

    def close(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


class RedisResultCache:
    def __init__(self, url: str, seconds: float) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.seconds = seconds

    def get(self, key: str) -> Entry | None:
        try:
            raw = self.client.get(key)
        except Exception:  # a cache that is down is a cache miss
            return None
        return dict(json.loads(raw)) if isinstance(raw, bytes | str) else None

    def put(self, key: str, entry: Entry) -> None:
        body = json.dumps(entry, separators=(",", ":"))
        if len(body) > _MAX_ENTRY_BYTES:
            return
        try:
            self.client.set(key, body, ex=max(1, int(self.seconds)))
        except Exception:  # never fail a query because the cache is down
            return

    def close(self) -> None:
        self.client.close()
