"""From a resolved query to an Ibis expression, with every base-table read restricted.

The base table and every table reached through a foreign key are read through
:func:`sextant.query.rows.restricted`, so sandbox predicates are ANDed into each read; a
metric's own filters always apply. Nothing here builds SQL text: Ibis compiles the expression
for whichever engine runs it.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from sextant.auth.principal import Principal
from sextant.permissions.decide import table_access
from sextant.query.expressions import compile_expression, operand
from sextant.query.fields import Column, key_target
from sextant.query.filters import compile_filter
from sextant.query.metric_kinds import aggregate, aggregate_metric
from sextant.query.paging import Page
from sextant.query.resolve import (
    RAggregation,
    Resolved,
    RFilter,
    RPart,
    RPlan,
    RWhere,
    where_columns,
)
from sextant.query.rows import OpenTable, restricted
from sextant.query.temporal import TRUNCATIONS, TimeRules, extract, localize, truncate
from sextant.store.snapshot import FieldRow, Snapshot
from sextant.warehouse.engines import EngineProfile, profile
from sextant.warehouse.types import base_type_of

__all__ = ["Compiled", "OutputColumn", "compile_query", "unique_names"]


@dataclass(frozen=True)
class OutputColumn:
    name: str
    display_name: str
    base_type: str = "type/*"
    semantic_type: str | None = None
    effective_type: str | None = None  # type/DateTimeWithLocalTZ for time-zone-aware instants


# aggregations that keep the meaning of their column (a sum of currency is currency)
_KEEPS_MEANING = frozenset({"sum", "avg", "min", "max"})
_IDENTITIES = frozenset({"type/PK", "type/FK"})


def _group_semantics(column: Column, granularity: str | None) -> str | None:
    if granularity is not None and granularity not in TRUNCATIONS:
        return None  # an extracted part (day of week) is a number, not the column's meaning
    return column.field.semantic_type


def _effective_type(dtype: Any) -> str:
    if dtype.is_timestamp() and dtype.timezone is not None:
        return "type/DateTimeWithLocalTZ"
    return base_type_of(dtype)


def _title(unit: str) -> str:
    return unit.replace("-", " ").title().replace("Of", "of")


def _aggregation_semantics(agg: RAggregation, plan: RPlan | None = None) -> str | None:
    if plan is not None:
        if plan.kind != "cumulative":
            return None  # a ratio or an expression has a meaning of its own
        (part,) = plan.parts
        return _aggregation_semantics(RAggregation(part.fn, part.column, "", ""))
    if agg.fn in ("count", "count-distinct"):
        return "type/Quantity"
    if agg.fn in _KEEPS_MEANING and agg.column is not None:
        semantic = agg.column.field.semantic_type
        return None if semantic in _IDENTITIES else semantic
    return None


@dataclass(frozen=True)
class Compiled:
    # the query; for a plan reused across values (sextant.query.plans), the expression of its
    # shape, whose values are markers: it gives the schema, ``sql`` is what runs
    expr: ir.Table
    columns: tuple[OutputColumn, ...]  # the leading columns of ``expr`` to return
    row_cap: int  # rows returned at most
    cap_binds: bool  # the server's cap (not the request's limit) decides the row count
    sql: str | None = None  # the expression compiled for its own backend, when bound to one
    page: Page | None = None  # the rows of one page (its size at most what is left under the cap)


def unique_names(names: list[str]) -> list[str]:
    """``count``, ``count`` -> ``count``, ``count_2`` (spec §6)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        candidate = name if seen[name] == 1 else f"{name}_{seen[name]}"
        while candidate in seen and candidate != name:
            seen[name] += 1
            candidate = f"{name}_{seen[name]}"
        seen.setdefault(candidate, 1)
        out.append(candidate)
    return out


def _used(resolved: Resolved) -> list[Column]:
    out: list[Column] = [c for f in resolved.filters for c in where_columns(f)]
    out += list(resolved.fields)
    if not resolved.fields and not resolved.aggregated:
        out += list(resolved.default_fields)
    parts = resolved.plan.parts if resolved.plan is not None else ()
    aggregated: list[RAggregation | RPart] = [*resolved.aggregations, *parts]
    for agg in aggregated:
        out += [c for f in agg.filters for c in where_columns(f)]
        if agg.column is not None:
            out.append(agg.column)
        if agg.expression is not None:
            out += [c for _, c in agg.expression.columns]
    out += [g.column for g in resolved.group_by] + [o.column for o in resolved.order_by]
    return out


def _granular(value: Any, granularity: str | None, engine: EngineProfile, rules: TimeRules) -> Any:
    """``value`` truncated to or extracted as ``granularity``, in the report zone's wall
    clock, weeks starting on its first day."""
    if granularity is None:
        return value
    local = localize(value, rules, engine)
    if granularity in TRUNCATIONS:
        return truncate(local, granularity, engine, rules.week_start)
    return extract(local, granularity, engine, rules.week_start)


def compile_query(
    resolved: Resolved,
    principal: Principal,
    snapshot: Snapshot,
    open_table: OpenTable,
    *,
    raw_cap: int,
    aggregated_cap: int,
    page: Page | None = None,
) -> Compiled:
    """The query as one expression; with ``page``, only that page's rows of the capped
    result in its total order (see :mod:`sextant.query.paging`), and one more row that says
    whether the result goes on."""
    table = resolved.table
    engine = profile(snapshot.databases[table.database_id].engine)
    settings = snapshot.query_settings
    rules = TimeRules(settings.report_timezone, settings.week_start)
    base = restricted(
        table, table_access(principal, snapshot, table.id), principal, snapshot, open_table
    )
    used = _used(resolved)
    # every chain of foreign keys the query follows, and each of its beginnings: a table
    # reached through keys (k1, k2) is joined to the one reached through (k1,) on k2
    paths: dict[tuple[int, ...], tuple[FieldRow, ...]] = {}
    for column in used:
        for end in range(1, len(column.path) + 1):
            chain = column.path[:end]
            paths[tuple(k.id for k in chain)] = chain
    names: dict[tuple[int, tuple[int, ...]], str] = {
        (c.field.id, ()): c.field.name for c in used if not c.path
    }
    joined = base
    for ids, chain in sorted(paths.items(), key=lambda item: (len(item[0]), item[0])):
        fk = chain[-1]
        found = key_target(snapshot, fk)
        assert found is not None  # resolve kept only keys with a known target
        key, target = found
        rows = restricted(
            target, table_access(principal, snapshot, target.id), principal, snapshot, open_table
        )
        prefix = "__r" + "_".join(map(str, ids)) + "__"
        needed = {c.field.name for c in used if c.key_ids == ids}
        needed |= {longer[-1].name for i, longer in paths.items() if i[:-1] == ids}
        right = rows.select(
            **{prefix + "key": rows[key.name]}, **{prefix + n: rows[n] for n in sorted(needed)}
        )
        left = joined[fk.name] if len(ids) == 1 else joined[names[(fk.id, ids[:-1])]]
        joined = joined.left_join(right, left == right[prefix + "key"]).select(
            *joined.columns, *(prefix + n for n in sorted(needed))
        )
        for needed_name in needed:
            row = target.field(needed_name)
            assert row is not None
            names[(row.id, ids)] = prefix + needed_name

    def value(column: Column) -> Any:
        return joined[names[(column.field.id, column.key_ids)]]

    def predicate(f: RWhere) -> Any:
        if not isinstance(f, RFilter):
            return compile_expression(f.expression, value)
        return compile_filter(
            value(f.column), f.column.field.base_type, f.op, list(f.values), f.bucket, engine, rules
        )

    plan = resolved.plan
    asked, on_time = list(resolved.filters), []
    if plan is not None and plan.along_time:
        # the caller's filters on the time dimension choose the periods shown, not the rows
        # used (the metric's own filters always choose rows)
        def on_dimension(f: RWhere) -> bool:
            if not isinstance(f, RFilter):
                return False
            return f.column.via is None and f.column.field.id == plan.time_field

        on_time = [f for f in asked if on_dimension(f)]
        asked = [f for f in asked if not on_dimension(f)]
    shown = functools.reduce(operator.and_, [predicate(f) for f in on_time]) if on_time else None
    wheres = [*asked, *(f for agg in resolved.aggregations for f in agg.filters)]
    predicates = [predicate(f) for f in wheres]
    filtered = joined.filter(functools.reduce(operator.and_, predicates)) if predicates else joined

    if resolved.aggregated:
        group_names = unique_names(
            [g.name for g in resolved.group_by] + [a.name for a in resolved.aggregations]
        )
        g_names = group_names[: len(resolved.group_by)]
        a_names = group_names[len(resolved.group_by) :]
        groups = {
            n: _granular(value(g.column), g.granularity, engine, rules)
            for n, g in zip(g_names, resolved.group_by, strict=True)
        }
        if plan is None:
            aggs = {
                n: aggregate(
                    a.fn,
                    _granular(value(a.column), a.bucket, engine, rules)
                    if a.column is not None
                    else operand(None, a.expression, value),
                    filtered,
                    engine,
                )
                for n, a in zip(a_names, resolved.aggregations, strict=True)
            }
            expr = (
                filtered.group_by(**groups).aggregate(**aggs)
                if groups
                else filtered.aggregate(**aggs)
            )
        else:
            expr = aggregate_metric(
                plan,
                filtered,
                groups,
                a_names[0],
                value=value,
                predicate=predicate,
                shown=shown,
                granularity=resolved.group_by[plan.time].granularity
                if plan.time is not None
                else None,
                engine=engine,
                rules=rules,
            )
        keys: list[tuple[str, str]] = []  # (output column, asc | desc)
        for n, a in zip(a_names, resolved.aggregations, strict=True):
            if a.sort is not None:
                keys.append((n, a.sort))
        ordered = set()
        for o in resolved.order_by:
            n = next(
                gn
                for gn, g in zip(g_names, resolved.group_by, strict=True)
                if g.column == o.column and g.granularity == o.granularity
            )
            keys.append((n, o.direction))
            ordered.add(n)
        keys += [(n, "asc") for n in g_names if n not in ordered]  # breakouts sort ascending
        columns = [
            OutputColumn(n, g.display_name, semantic_type=_group_semantics(g.column, g.granularity))
            for n, g in zip(g_names, resolved.group_by, strict=True)
        ]
        columns += [
            OutputColumn(n, a.display_name, semantic_type=_aggregation_semantics(a, plan))
            for n, a in zip(a_names, resolved.aggregations, strict=True)
        ]
        cap = aggregated_cap
    else:
        chosen = list(resolved.fields) or list(resolved.default_fields)
        buckets = list(resolved.field_buckets) or [None] * len(chosen)
        out_names = unique_names([c.field.name for c in chosen])
        outputs = {
            n: _granular(value(c), b, engine, rules)
            for n, c, b in zip(out_names, chosen, buckets, strict=True)
        }
        keys = []
        for i, o in enumerate(resolved.order_by):
            name = next(
                (
                    n
                    for n, c, b in zip(out_names, chosen, buckets, strict=True)
                    if c == o.column and b == o.granularity
                ),
                None,
            )
            if name is None:  # ordered by a column not shown: carry it, then drop it
                name = f"__order{i}"
                outputs[name] = _granular(value(o.column), o.granularity, engine, rules)
            keys.append((name, o.direction))
        expr = filtered.select(**outputs)
        columns = [
            OutputColumn(
                n,
                c.field.display_name if b is None else f"{c.field.display_name}: {_title(b)}",
                semantic_type=_group_semantics(c, b),
            )
            for n, c, b in zip(out_names, chosen, buckets, strict=True)
        ]
        cap = raw_cap
    limit = resolved.limit
    cap_binds = limit is None or limit > cap
    row_cap = cap if cap_binds else int(limit or cap)
    order = [ibis.desc(n) if d == "desc" else ibis.asc(n) for n, d in keys]
    if page is not None:
        order += _tie_break(expr, {n for n, _ in keys}, engine)
        page = Page(page.offset, max(0, min(page.size, row_cap - page.offset)))
    if order:
        expr = expr.order_by(order)
    if page is not None:
        expr = expr.limit(page.size + 1, offset=page.offset)
    else:
        expr = expr.limit(row_cap + 1 if cap_binds else row_cap)
    schema = expr.schema()
    typed = tuple(
        OutputColumn(
            c.name,
            c.display_name,
            base_type_of(schema[c.name]),
            c.semantic_type,
            _effective_type(schema[c.name]),
        )
        for c in columns
    )
    return Compiled(expr, typed, row_cap, cap_binds, page=page)


def _tie_break(expr: ir.Table, named: set[str], engine: EngineProfile) -> list[Any]:
    """Every output column the order does not already name, ascending: with them the
    order is total up to rows equal in every column. Columns no engine can order (JSON,
    arrays, maps, structs) are left out; text under a collation that calls different
    strings equal is also ordered by its bytes (ordered already or not)."""
    keys: list[Any] = []
    for name, dtype in expr.schema().items():
        if dtype.is_json() or dtype.is_nested():
            continue
        if name not in named:
            keys.append(expr[name].asc())
        if engine.collated_text and dtype.is_string():
            keys.append(_hex(expr[name]).asc())
    return keys


def _hex_of(text: str) -> str:  # type: ignore[empty-body]
    """MySQL's HEX(): a string's bytes in hexadecimal, ordered as the bytes are."""


_hex: Callable[[Any], Any] = ibis.udf.scalar.builtin(_hex_of, name="hex")
