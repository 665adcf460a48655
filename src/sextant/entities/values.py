"""Field statistics and value lists: global fingerprints, or over a sandbox's rows.

A caller without a sandbox gets the fingerprint made at sync (computed and stored on demand
when missing), kept in memory until the next apply or sync. A sandboxed caller gets one
computed over the rows the sandbox leaves visible, cached per (table, bound sandbox filters,
model version) and never shared across filters.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from sqlalchemy import Engine

from sextant.store.fingerprints import load_fingerprint, save_fingerprints
from sextant.store.snapshot import TableRow
from sextant.warehouse.fingerprint import Fingerprint

__all__ = ["FingerprintCache", "fingerprints_for"]


class FingerprintCache:
    """A small thread-safe LRU of per-sandbox fingerprints."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, dict[str, Fingerprint]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> dict[str, Fingerprint] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, value: dict[str, Fingerprint]) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def fingerprints_for(
    *,
    engine: Engine,
    cache: FingerprintCache,
    table: TableRow,
    names: list[str],
    compute: Callable[[list[tuple[str, str]]], dict[str, Fingerprint]],
    sandbox_key: Hashable | None,
) -> dict[str, Fingerprint]:
    """Fingerprints of ``names`` (visible columns of ``table``) for the caller."""
    fields = {f.name: f for f in table.fields}
    columns = [(n, fields[n].base_type) for n in names]
    if sandbox_key is None:
        key: Hashable = (table.id, "global", tuple(names))
        cached = cache.get(key)
        if cached is not None:
            return cached
        stored = {n: load_fingerprint(engine, fields[n].id) for n in names}
        missing = [n for n, fp in stored.items() if fp is None]
        if missing:
            made = compute([(n, fields[n].base_type) for n in missing])
            save_fingerprints(engine, {fields[n].id: made[n] for n in missing})
            stored.update(made)
        found = {n: fp for n, fp in stored.items() if fp is not None}
        cache.put(key, found)
        return found
    key = (table.id, sandbox_key, tuple(names))
    cached = cache.get(key)
    if cached is None:
        cached = compute(columns)
        cache.put(key, cached)
    return cached
