"""Reading a base table as a caller may: the sandbox's row filter ANDed into every read."""

from __future__ import annotations

import functools
import logging
import operator
from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from sextant.auth.principal import Principal
from sextant.permissions.decide import TableAccess
from sextant.permissions.sandbox import BoundFilter, bind_sandbox
from sextant.query.fields import key_target
from sextant.query.filters import coerce_values, compile_filter
from sextant.query.temporal import TimeRules
from sextant.store.snapshot import Snapshot, TableRow
from sextant.warehouse.engines import profile

__all__ = ["OpenTable", "bound_sandboxes", "restricted", "sandbox_predicate"]

log = logging.getLogger("sextant.query")

OpenTable = Callable[[TableRow], ir.Table]
"""Gives the unrestricted Ibis table of a table row (on the right connection)."""


def bound_sandboxes(access: TableAccess, principal: Principal) -> tuple[BoundFilter | None, ...]:
    """The caller's sandboxes with attributes filled in (None: that sandbox shows no rows)."""
    return tuple(bind_sandbox(sb.definition, principal.attributes) for sb in access.sandboxes)


def _condition(
    expr: ir.Table, table: TableRow, bound: BoundFilter, snapshot: Snapshot, open_table: OpenTable
) -> ir.BooleanValue:
    engine = profile(snapshot.databases[table.database_id].engine)
    settings = snapshot.query_settings
    rules = TimeRules(settings.report_timezone, settings.week_start)
    holder, hops = table, []  # hops: (the key, the field it points to, the table holding it)
    for name in bound.via:
        fk = holder.field(name)
        found = key_target(snapshot, fk)
        if fk is None or found is None:
            raise LookupError(f"{holder.name}.{name} is not a foreign key")
        key, target = found
        hops.append((fk, key, holder))
        holder = target
    column = holder.field(bound.column)
    if column is None:
        raise LookupError(f"{holder.name}.{bound.column}")
    values = coerce_values(
        column.base_type, bound.operation, bound.bucket, bound.values, rules.zone
    )
    rows = expr if not hops else open_table(holder)
    condition = compile_filter(
        rows[column.name], column.base_type, bound.operation, values, bound.bucket, engine, rules
    )
    # through a chain of keys, from its far end back to the table read: each table's keys
    # that lead to the rows kept so far
    for i in reversed(range(len(hops))):
        fk, key, key_holder = hops[i]
        keys = rows.filter(condition).select(key.name)[key.name]
        rows = expr if i == 0 else open_table(key_holder)
        condition = rows[fk.name].isin(keys)
    return condition


def sandbox_predicate(
    expr: ir.Table,
    table: TableRow,
    access: TableAccess,
    principal: Principal,
    snapshot: Snapshot,
    open_table: OpenTable,
) -> ir.BooleanValue | None:
    """The row filter for ``table`` (None: every row); sandboxes combine with OR."""
    if not access.sandboxed:
        return None
    parts: list[ir.BooleanValue] = []
    for bound in bound_sandboxes(access, principal):
        if bound is None:
            continue  # a missing attribute lets nothing through
        try:
            parts.append(_condition(expr, table, bound, snapshot, open_table))
        except (LookupError, ValueError) as exc:  # a sandbox that cannot apply denies
            log.warning("sandbox on %s cannot apply (%s); it shows no rows", table.name, exc)
    if not parts:
        return ibis.literal(False)
    return functools.reduce(operator.or_, parts)


def restricted(
    table: TableRow,
    access: TableAccess,
    principal: Principal,
    snapshot: Snapshot,
    open_table: OpenTable,
) -> ir.Table:
    """The rows of ``table`` the caller may read."""
    expr = open_table(table)
    predicate = sandbox_predicate(expr, table, access, principal, snapshot, open_table)
    return expr if predicate is None else expr.filter(predicate)
