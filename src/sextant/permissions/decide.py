"""Who may use which table, collection and metric (spec §7), decided in one place.

Pure functions over a :class:`Snapshot` and a :class:`Principal`; each answer carries a reason
so that logs and tests can say why. Row-level limits come back as the sandboxes to apply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sextant.auth.principal import Principal
from sextant.store.snapshot import MetricRow, SandboxRow, Snapshot

__all__ = [
    "Decision",
    "TableAccess",
    "collection_access",
    "metric_access",
    "table_access",
    "table_access_for",
]

_RANK = {"none": 0, "sandboxed": 1, "query": 2}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


@dataclass(frozen=True)
class TableAccess(Decision):
    """Access to a table: full, or limited to rows any of ``sandboxes`` lets through."""

    sandboxed: bool = False
    sandboxes: tuple[SandboxRow, ...] = ()
    hidden_columns: frozenset[str] = frozenset()

    @property
    def cache_key(self) -> tuple[int, ...]:
        """Identifies the row filter (with the principal's attributes) for caching."""
        return tuple(sorted(sb.id for sb in self.sandboxes))


def table_access(principal: Principal, snapshot: Snapshot, table_id: int) -> TableAccess:
    table = snapshot.tables.get(table_id)
    if table is None:
        return TableAccess(False, "unknown table")
    if table.visibility != "normal":
        return TableAccess(False, "the table is hidden from agents")
    if principal.is_admin:
        return TableAccess(True, "administrators see everything")
    grants = snapshot.data_grants.get(table_id, {})
    levels = {group: grants[group] for group in principal.groups if group in grants}
    best = max(levels.values(), key=_RANK.__getitem__, default="none")
    if best == "query":
        group = min(g for g, a in levels.items() if a == "query")
        return TableAccess(True, f"group {group!r} may query the table")
    if best == "sandboxed":
        groups = {g for g, a in levels.items() if a == "sandboxed"}
        sandboxes = tuple(sb for sb in snapshot.sandboxes.get(table_id, ()) if sb.group in groups)
        hidden: frozenset[str] | None = None
        for sb in sandboxes:
            columns = frozenset(sb.definition.get("hidden_columns", ()))
            hidden = columns if hidden is None else hidden & columns
        reason = f"sandboxed through {', '.join(sorted(groups))}"
        if not sandboxes:
            reason += " (no sandbox defined: no rows)"
        return TableAccess(True, reason, True, sandboxes, hidden or frozenset())
    return TableAccess(False, "no group of the user has access to the table")


def collection_access(
    principal: Principal, snapshot: Snapshot, collection_id: int | None
) -> Decision:
    if principal.is_admin:
        return Decision(True, "administrators see everything")
    if collection_id is None:
        return Decision(False, "the entity is in no collection")
    grants = snapshot.collection_grants.get(collection_id, {})
    readers = sorted(g for g in principal.groups if grants.get(g) == "read")
    if readers:
        return Decision(True, f"group {readers[0]!r} may read the collection")
    return Decision(False, "no group of the user may read the collection")


def metric_access(principal: Principal, snapshot: Snapshot, metric: MetricRow) -> Decision:
    """A metric needs its collection readable and its table usable."""
    collection = collection_access(principal, snapshot, metric.collection_id)
    if not collection.allowed:
        return collection
    table = table_access(principal, snapshot, metric.table_id)
    if not table.allowed:
        return Decision(False, f"the metric's table: {table.reason}")
    return Decision(True, f"{collection.reason}; {table.reason}")


def table_access_for(principal: Principal, snapshot: Snapshot) -> Callable[[int], TableAccess]:
    """``table_access`` for one caller, remembered per table for the life of a request."""
    memo: dict[int, TableAccess] = {}

    def decide(table_id: int) -> TableAccess:
        if table_id not in memo:
            memo[table_id] = table_access(principal, snapshot, table_id)
        return memo[table_id]

    return decide
