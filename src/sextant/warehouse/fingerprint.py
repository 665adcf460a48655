"""Column fingerprints: the statistics of spec §4 and sorted value lists, in few scans.

One aggregate query per table computes every statistic of every requested column; a second
one (only when some column is low-cardinality) collects their distinct values. The input is
an Ibis table expression, so a caller can fingerprint a filtered view (a sandbox) the same way.

In one scan, exact distinct counts and quartiles hold every distinct value in memory at
once. On an embedded engine (DuckDB), a table of more than ``exact_rows`` rows is therefore
described in bounded memory: each column's distinct values are counted by a query of their
own that groups them (a grouping spills to disk under the engine's memory limit, so the
counts stay exact), and quartiles come from a sketch (DuckDB's ``approx_quantile``, within a
fraction of a percent on TPC-H) — those statistics say ``"approximate": true``. A column with
so many distinct values that even the grouping runs out of memory (the 45 million comments of
TPC-H SF10 lineitem in 128 MB) gets a HyperLogLog estimate instead, and says so the same
way. Counts of rows and nulls, minimum, maximum, average, deviation and value lists are exact
either way. A
smaller table whose one-scan statistics do not fit the memory limit (sync holds DuckDB to
one) is described the bounded way instead of failing.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa

from sextant.warehouse.engines import EngineProfile, profile
from sextant.warehouse.runner import arrow_of
from sextant.warehouse.types import NUMERIC_BASE_TYPES, TEXT_BASE_TYPES

__all__ = ["Fingerprint", "ScanCounter", "fingerprint_table", "jsonable"]

TEMPORAL = frozenset({"type/Date", "type/DateTime", "type/Time"})
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
URL_PATTERN = r"^(https?|ftp)://[^\s/$.?#][^\s]*$"
US_STATES = (
    "AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL",
    "IN", "KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE",
    "NH", "NJ", "NM", "NV", "NY", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VA", "VT", "WA", "WI", "WV", "WY",
)  # fmt: skip


@dataclass
class ScanCounter:
    """Counts the queries that read a table, so that sync can report them."""

    scans: int = 0
    by_table: dict[str, int] = field(default_factory=dict)

    def add(self, table: str) -> None:
        self.scans += 1
        self.by_table[table] = self.by_table.get(table, 0) + 1


@dataclass(frozen=True)
class Fingerprint:
    row_count: int
    statistics: dict[str, Any]
    values: list[Any] | None  # sorted distinct non-null values, None when too many


def jsonable(value: Any) -> Any:
    """A value as JSON can carry it: ISO dates, floats for decimals, None for NaN."""
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    return str(value)


def _share(count: Any, total: int) -> float:
    return round(float(count or 0) / total, 6) if total else 0.0


def _aggregates(
    i: int, col: ir.Column, base_type: str, engine: EngineProfile, bounded: bool = False
) -> dict[str, ir.Scalar]:
    """Every statistic of one column as an aggregate; ``bounded``: without the distinct count
    (counted apart) and with sketched quartiles."""
    out: dict[str, ir.Scalar] = {f"c{i}_nulls": col.isnull().ifelse(1, 0).sum()}
    if not bounded:
        out[f"c{i}_distinct"] = col.nunique()
    if base_type in NUMERIC_BASE_TYPES:
        num = col.cast("float64")
        out |= {
            f"c{i}_min": num.min(),
            f"c{i}_max": num.max(),
            f"c{i}_avg": num.mean(),
            f"c{i}_sd": num.std(how="sample"),
        }
        if engine.quantiles and bounded:
            out |= {f"c{i}_q1": num.approx_quantile(0.25), f"c{i}_q3": num.approx_quantile(0.75)}
        elif engine.quantiles:
            out |= {f"c{i}_q1": num.quantile(0.25), f"c{i}_q3": num.quantile(0.75)}
    elif base_type in TEMPORAL:
        out |= {f"c{i}_earliest": col.min(), f"c{i}_latest": col.max()}
    elif base_type in TEXT_BASE_TYPES:
        text = col.cast("string")
        trimmed = text.strip()
        is_json = (trimmed.startswith("{") & trimmed.endswith("}")) | (
            trimmed.startswith("[") & trimmed.endswith("]")
        )
        out |= {
            f"c{i}_length": text.length().cast("float64").mean(),
            f"c{i}_email": text.re_search(EMAIL_PATTERN).ifelse(1, 0).sum(),
            f"c{i}_url": text.re_search(URL_PATTERN).ifelse(1, 0).sum(),
            f"c{i}_state": trimmed.upper().isin(US_STATES).ifelse(1, 0).sum(),
            f"c{i}_json": is_json.ifelse(1, 0).sum(),
        }
    return out


def _statistics(i: int, base_type: str, row: dict[str, Any], rows: int) -> dict[str, Any]:
    nulls = int(row[f"c{i}_nulls"] or 0)
    non_null = rows - nulls
    stats: dict[str, Any] = {
        "distinct_count": int(row[f"c{i}_distinct"] or 0),
        "percent_null": _share(nulls, rows),
    }
    if base_type in NUMERIC_BASE_TYPES:
        for key in ("min", "max", "avg", "q1", "q3", "sd"):
            stats[key] = jsonable(row.get(f"c{i}_{key}"))  # no quartiles on some engines
    elif base_type in TEMPORAL:
        stats["earliest"] = jsonable(row[f"c{i}_earliest"])
        stats["latest"] = jsonable(row[f"c{i}_latest"])
    elif base_type in TEXT_BASE_TYPES:
        stats["average_length"] = jsonable(row[f"c{i}_length"])
        for key in ("email", "url", "state", "json"):
            stats[f"percent_{key}"] = _share(row[f"c{i}_{key}"], non_null)
    return stats


def _out_of_memory(exc: BaseException) -> bool:
    """Whether the engine ran out of the memory it may use (DuckDB's OutOfMemoryException,
    perhaps wrapped by the caller's runner)."""
    while exc is not None:
        if "OutOfMemory" in type(exc).__name__ or "Out of Memory" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if not isinstance(value, bool) else (0, int(value))


def fingerprint_table(
    table: ir.Table,
    columns: Sequence[tuple[str, str]],
    *,
    threshold: int = 1000,
    counter: ScanCounter | None = None,
    label: str = "",
    engine: str = "duckdb",
    run: Callable[[ir.Table], pa.Table] | None = None,
    exact_rows: int | None = None,
) -> dict[str, Fingerprint]:
    """Fingerprints of ``columns`` (name, base type) of ``table``, in one or two scans (one
    more per listed column on engines without arrays; with ``exact_rows``, one more to count
    the rows first, and for a larger table one more per column). ``run`` executes each scan
    (default: the table's own backend)."""
    if not columns:
        return {}
    execute: Callable[[ir.Table], pa.Table] = run or arrow_of
    engine_profile = profile(engine)

    def scan(expr: ir.Table) -> dict[str, Any]:
        found: dict[str, Any] = execute(expr).to_pylist()[0]
        if counter is not None:
            counter.add(label)
        return found

    bounded = False
    if exact_rows is not None and engine_profile.bounded_statistics:
        bounded = int(scan(table.aggregate(rows=table.count()))["rows"] or 0) > exact_rows

    estimated: set[str] = set()  # distinct counts by HyperLogLog

    def statistics_row(bounded: bool) -> dict[str, Any]:
        aggs: dict[str, ir.Scalar] = {"rows": table.count()}
        for i, (name, base_type) in enumerate(columns):
            aggs |= _aggregates(i, table[name], base_type, engine_profile, bounded)
        found = scan(table.aggregate(**aggs))
        for i, (name, _) in enumerate(columns) if bounded else ():
            values = table.select(v=table[name]).distinct()
            try:
                found[f"c{i}_distinct"] = scan(values.aggregate(n=values.v.count()))["n"]
            except Exception as exc:
                if not _out_of_memory(exc):
                    raise
                # tens of millions of distinct long strings outgrow even a spilling grouping
                estimate = table.aggregate(n=table[name].approx_nunique())
                found[f"c{i}_distinct"] = scan(estimate)["n"]
                estimated.add(name)
        return found

    try:
        row = statistics_row(bounded)
    except Exception as exc:
        if bounded or not engine_profile.bounded_statistics or not _out_of_memory(exc):
            raise
        bounded = True
        row = statistics_row(bounded)
    rows = int(row["rows"] or 0)
    stats = {
        name: _statistics(i, base_type, row, rows) for i, (name, base_type) in enumerate(columns)
    }
    for name, base_type in columns if bounded else ():
        quartiles = engine_profile.quantiles and base_type in NUMERIC_BASE_TYPES
        if quartiles or name in estimated:
            stats[name]["approximate"] = True
    listed = [
        (i, name)
        for i, (name, _) in enumerate(columns)
        if 0 < stats[name]["distinct_count"] <= threshold
    ]
    values: dict[str, list[Any]] = {name: [] for name, _ in columns if rows == 0}
    if listed and engine_profile.arrays:
        collected = scan(
            table.aggregate(**{f"v{i}": table[name].collect(distinct=True) for i, name in listed})
        )
        for i, name in listed:
            raw = [v for v in (collected[f"v{i}"] or []) if v is not None]
            values[name] = [jsonable(v) for v in sorted(raw, key=_sort_key)]
    for _, name in listed if not engine_profile.arrays else ():
        found = execute(distinct_values_query(table, name)).column(0).to_pylist()
        if counter is not None:
            counter.add(label)
        values[name] = [jsonable(v) for v in sorted(found, key=_sort_key)]
    for name, _ in columns:
        if stats[name]["distinct_count"] == 0:
            values[name] = []
    return {name: Fingerprint(rows, stats[name], values.get(name)) for name, _ in columns}


def distinct_values_query(table: ir.Table, column: str) -> ir.Table:
    """Sorted distinct non-null values of one column (for on-demand value lists)."""
    col = table[column]
    return table.filter(col.notnull()).select(col).distinct().order_by(col)
