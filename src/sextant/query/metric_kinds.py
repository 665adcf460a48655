"""Ratio, derived and cumulative metrics as Ibis expressions over a metric's rows.

Every part is a (conditional) aggregation of the rows, grouped like the query. An offset part
is the same aggregation keyed by a period ``offset`` later, joined on the period's index; a
cumulative part is accumulated along the time breakout (a window function for all time and
to-date grains; a join of each period with the periods of its trailing window otherwise).
The parts are then combined by the metric's expression, a zero divisor giving null.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir

from sextant.model.metric_kinds import Number, Ref, Term, Unary, index_units
from sextant.query.expressions import operand
from sextant.query.resolve import RPart, RPlan, RWhere
from sextant.query.temporal import TimeRules, extract, truncate
from sextant.warehouse.engines import EngineProfile

__all__ = ["aggregate", "aggregate_metric"]

_SHOWN = "__shown"
_INDEX = "__index"
# how a running value is built from the periods' own values
_RUNNING = {"sum": "sum", "count": "sum", "min": "min", "max": "max"}


def aggregate(fn: str, value: Any, table: ir.Table, engine: EngineProfile) -> ir.Scalar:
    """``fn`` over ``value`` (a column, or None for count of rows) of ``table``."""
    if fn == "count":
        return table.count() if value is None else value.count()
    return {
        "count-distinct": lambda v: v.nunique(),
        "sum": lambda v: v.sum(),
        "avg": lambda v: _average(v, engine),
        "min": lambda v: v.min(),
        "max": lambda v: v.max(),
    }[fn](value)


def _average(value: Any, engine: EngineProfile) -> Any:
    if engine.float_average and value.type().is_integer():
        return value.cast("float64").mean()
    if engine.float_decimal_average and value.type().is_decimal():
        return value.mean().cast("float64")
    return value.mean()


def _column(part: RPart) -> str:
    return f"__part_{part.name}"


def _part(
    part: RPart,
    rows: ir.Table,
    value: Callable[[Any], Any],
    predicate: Callable[[RWhere], Any],
    engine: EngineProfile,
) -> ir.Scalar:
    """The part's aggregation; its own filters keep only their rows (CASE WHEN … END)."""
    column = operand(part.column, part.expression, value)
    if not part.filters:
        return aggregate(part.fn, column, rows, engine)
    keep = functools.reduce(operator.and_, [predicate(f) for f in part.filters])
    if column is None:  # count of the rows kept
        return keep.ifelse(ibis.literal(1), ibis.null("int64")).count()
    empty = ibis.null(column.type().copy(nullable=True))
    return aggregate(part.fn, keep.ifelse(column, empty), rows, engine)


def period_index(period: Any, granularity: str, engine: EngineProfile) -> Any:
    """A period's place on a line of whole units: days since 1970 for day and week periods,
    months since year 0 for month, quarter and year periods (see ``index_units``)."""
    if granularity in ("day", "week"):
        day = period.date() if period.type().is_timestamp() else period
        return day.epoch_days().cast("int64")
    year = extract(period, "year", engine).cast("int64")
    return year * 12 + extract(period, "month", engine).cast("int64") - 1


def _evaluate(term: Term, part: Callable[[str], Any]) -> Any:
    if isinstance(term, Ref):
        return part(term.name)
    if isinstance(term, Number):
        return ibis.literal(term.value, type="float64")
    if isinstance(term, Unary):
        return -_evaluate(term.operand, part).cast("float64")
    left = _evaluate(term.left, part).cast("float64")
    right = _evaluate(term.right, part).cast("float64")
    if term.op == "/":
        return left / right.nullif(0.0)
    return {"+": operator.add, "-": operator.sub, "*": operator.mul}[term.op](left, right)


def aggregate_metric(
    plan: RPlan,
    rows: ir.Table,
    groups: dict[str, Any],
    name: str,
    *,
    value: Callable[[Any], Any],
    predicate: Callable[[RWhere], Any],
    shown: Any | None,
    granularity: str | None,
    engine: EngineProfile,
    rules: TimeRules,
) -> ir.Table:
    """One row per group: the groups' columns (``groups``' names) and the metric as ``name``.
    ``shown``, when given, is the filter on the time dimension that chooses which periods are
    shown (their values still use earlier periods' rows)."""
    names = list(groups)
    time = names[plan.time] if plan.time is not None else None
    keys = [n for n in names if n != time]
    if plan.along_time and time is not None:
        rows = rows.filter(groups[time].notnull())  # a row without a time has no place in line

    def grouped(aggregations: dict[str, Any]) -> ir.Table:
        if groups:
            return rows.group_by(**groups).aggregate(**aggregations)
        return rows.aggregate(**aggregations)

    plain = [p for p in plan.parts if p.offset is None]
    aggregations = {_column(p): _part(p, rows, value, predicate, engine) for p in plain}
    if shown is not None:
        aggregations[_SHOWN] = shown.ifelse(1, 0).max()
    table = grouped(aggregations)
    offsets = sorted({p.offset for p in plan.parts if p.offset is not None}, key=str)
    if offsets or plan.window is not None:
        assert time is not None and granularity is not None  # checked by resolve
        table = table.mutate(**{_INDEX: period_index(table[time], granularity, engine)})
    for offset in offsets:
        assert time is not None and granularity is not None
        shifted = [p for p in plan.parts if p.offset == offset]
        earlier = grouped({_column(p): _part(p, rows, value, predicate, engine) for p in shifted})
        moved = earlier.select(
            **{f"__key_{k}": earlier[k] for k in keys},
            **{_INDEX: period_index(earlier[time], granularity, engine)
               + index_units(offset, granularity)},
            **{_column(p): earlier[_column(p)] for p in shifted},
        )  # fmt: skip
        on = [table[_INDEX] == moved[_INDEX]]
        on += [table[k].identical_to(moved[f"__key_{k}"]) for k in keys]
        table = table.left_join(moved, on).select(*table.columns, *(_column(p) for p in shifted))
    if plan.kind == "cumulative" and time is not None:
        table = _accumulate(plan, table, time, keys, granularity or "", engine, rules)
    metric = _evaluate(plan.term, lambda part: table[f"__part_{part}"])
    out = table.mutate(**{name: metric})
    if shown is not None:
        out = out.filter(out[_SHOWN] == 1)
    return out.select(*names, name)


def _accumulate(
    plan: RPlan,
    table: ir.Table,
    time: str,
    keys: list[str],
    granularity: str,
    engine: EngineProfile,
    rules: TimeRules,
) -> ir.Table:
    """The cumulative part of each period: over every period up to it (within its grain), or
    over the periods of the trailing window ending with it."""
    (part,) = plan.parts
    column = _column(part)
    running = _RUNNING[part.fn]
    if plan.window is None:
        partition = [table[k] for k in keys]
        if plan.grain is not None:
            partition.append(truncate(table[time], plan.grain, engine, rules.week_start))
        window = ibis.cumulative_window(group_by=partition, order_by=table[time])
        return table.mutate(**{column: getattr(table[column], running)().over(window)})
    width = index_units(plan.window, granularity)
    earlier = table.select(
        **{f"__key_{k}": table[k] for k in keys},
        __earlier_index=table[_INDEX],
        __earlier_value=table[column],
    )
    on = [
        earlier["__earlier_index"] <= table[_INDEX],
        earlier["__earlier_index"] > table[_INDEX] - width,
        *(table[k].identical_to(earlier[f"__key_{k}"]) for k in keys),
    ]
    kept = [c for c in table.columns if c != column]
    joined = table.inner_join(earlier, on)
    return joined.group_by(*kept).aggregate(
        **{column: getattr(joined["__earlier_value"], running)()}
    )
