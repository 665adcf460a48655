"""Field statistics and value lists: global fingerprints, or over a sandbox's rows.

A caller without a sandbox gets the fingerprint made at sync (computed and stored on demand
when missing), kept in memory until the next apply or sync. A sandboxed caller gets one
computed over the rows the sandbox leaves visible, cached per (table, bound sandbox filters,
model version) and never shared across filters.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from sqlalchemy import Engine

from sextant.cache import LRU
from sextant.store.fingerprints import load_fingerprint, save_fingerprints
from sextant.store.snapshot import TableRow
from sextant.warehouse.fingerprint import Fingerprint

__all__ = ["FingerprintCache", "fingerprints_for"]


class FingerprintCache(LRU[dict[str, Fingerprint]]):
    """Fingerprints by (table, sandbox filters or "global", columns)."""


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
