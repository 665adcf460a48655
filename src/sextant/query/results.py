"""Query outcomes as Python values, and their JSON form (spec §6), streamed in pieces.

The executor returns a :class:`QueryResult` (columns and JSON-ready rows) or a
:class:`QueryFailure`; each transport serializes it. :func:`body_chunks` writes the execute
body of the HTTP API, with room for the extra keys a route adds (a card run's
``database_id`` and ``context``).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import math
import zoneinfo
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from sextant.query.compile import OutputColumn

__all__ = [
    "QueryFailure",
    "QueryResult",
    "body_chunks",
    "column_objects",
    "failed_body",
    "json_value",
    "result_from_arrow",
]

_SAFE_INTEGER = 2**53


@dataclass(frozen=True)
class QueryResult:
    """A completed query: its columns and rows (JSON-ready values), capped."""

    columns: tuple[OutputColumn, ...]
    rows: list[list[Any]]
    running_ms: int
    truncated: bool = False
    row_limit: int | None = None  # the cap that cut rows, when ``truncated``
    cached: bool = False
    next_offset: int | None = None  # a page's result: where the next page starts
    # decimal columns whose values a binary float cannot hold: column index -> each row's
    # value written out in full (None: the row's JSON value is exact already)
    exact: Mapping[int, list[str | None]] = field(default_factory=dict)

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def to_cache(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "running_ms": self.running_ms,
            "truncated": self.truncated,
            "row_limit": self.row_limit,
            "exact": {str(i): texts for i, texts in self.exact.items()},
        }

    @classmethod
    def from_cache(cls, columns: tuple[OutputColumn, ...], data: Mapping[str, Any]) -> QueryResult:
        return cls(
            columns,
            [list(row) for row in data["rows"]],
            int(data["running_ms"]),
            bool(data["truncated"]),
            data.get("row_limit"),
            cached=True,
            exact={int(i): list(texts) for i, texts in (data.get("exact") or {}).items()},
        )


@dataclass(frozen=True)
class QueryFailure:
    """A query that did not complete after validation: still a 202 on the wire."""

    status: str  # failed | timeout | cancelled (as the audit log records it)
    message: str


def json_value(value: Any) -> Any:
    """ISO dates and times, big integers as strings, decimals as numbers, NaN as null."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return str(value) if abs(value) > _SAFE_INTEGER else value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _integer(value: Any) -> Any:
    if (
        isinstance(value, decimal.Decimal)
        and value.is_finite()
        and value == value.to_integral_value()
    ):
        return json_value(int(value))
    if isinstance(value, float) and value.is_integer():
        return json_value(int(value))
    return json_value(value)


def _instant(zone: str) -> Callable[[Any], Any]:
    """Datetimes with their offset in the report zone: a naive value is that zone's wall
    clock, an aware one is shown there; UTC is written ``Z``."""
    where = zoneinfo.ZoneInfo(zone)

    def convert(value: Any) -> Any:
        if not isinstance(value, _dt.datetime):
            return json_value(value)
        moment = value.replace(tzinfo=where) if value.tzinfo is None else value.astimezone(where)
        text = moment.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert


def _as_declared(base_type: str, zone: str) -> Callable[[Any], Any]:
    """Bring an engine's value to the column's declared type before JSON.

    DuckDB sums integers into HUGEINT (arrow decimals) and truncates DATEs into TIMESTAMPs;
    the declared type is what the caller was promised.
    """
    if base_type in ("type/Integer", "type/BigInteger"):
        return _integer
    if base_type == "type/Date":
        return lambda v: json_value(v.date() if isinstance(v, _dt.datetime) else v)
    if base_type == "type/DateTime":
        return _instant(zone)
    return json_value


_PLAIN = frozenset({"type/Text", "type/Boolean"})


_UTC = frozenset({"UTC", "Etc/UTC", "Z"})


def _utc_texts(column: pa.ChunkedArray) -> list[Any] | None:
    """Timestamps written as UTC ISO-8601 by Arrow, not one Python datetime at a time (a
    naive value is UTC's wall clock, an aware one is moved to UTC): what ``_instant`` writes
    for the UTC zone, microseconds shown only when there are some. None when a value does not
    fit microseconds exactly (nanoseconds, out of range): those go one at a time as before."""
    zone = column.type.tz
    try:
        micro = pc.cast(column, pa.timestamp("us", tz=zone and "UTC"), safe=True)
    except pa.ArrowInvalid:
        return None
    texts: list[str | None] = pc.strftime(micro, format="%Y-%m-%dT%H:%M:%S").to_pylist()
    return [None if t is None else (t[:-7] if t.endswith(".000000") else t) + "Z" for t in texts]


def _column_values(column: pa.ChunkedArray, base_type: str, zone: str = "UTC") -> list[Any]:
    """A column's values ready for JSON, converting only where the type needs it."""
    if base_type == "type/DateTime" and zone in _UTC and pa.types.is_timestamp(column.type):
        texts = _utc_texts(column)
        if texts is not None:
            return texts
    values: list[Any] = column.to_pylist()
    if base_type in _PLAIN and all(isinstance(v, str | bool) or v is None for v in values):
        return values
    if base_type == "type/Float":
        return [v if isinstance(v, float) and math.isfinite(v) else json_value(v) for v in values]
    convert = _as_declared(base_type, zone)
    return [convert(v) for v in values]


def result_from_arrow(
    table: pa.Table,
    columns: Sequence[OutputColumn],
    *,
    row_cap: int,
    cap_binds: bool,
    running_ms: int,
    zone: str = "UTC",
) -> QueryResult:
    """The leading ``columns`` of ``table``, cut to ``row_cap`` rows; datetimes shown in
    ``zone``."""
    truncated = cap_binds and table.num_rows > row_cap
    shown = table.slice(0, row_cap) if table.num_rows > row_cap else table
    values = [_column_values(shown.column(i), c.base_type, zone) for i, c in enumerate(columns)]
    rows = [list(row) for row in zip(*values, strict=True)] if values else []
    exact = {
        i: texts
        for i, c in enumerate(columns)
        if c.base_type not in _WHOLE and (texts := _exact_texts(shown.column(i))) is not None
    }
    cut = row_cap if truncated else None
    return QueryResult(tuple(columns), rows, running_ms, truncated, cut, exact=exact)


_WHOLE = frozenset({"type/Integer", "type/BigInteger"})  # written as integers already


def _exact_texts(column: pa.ChunkedArray) -> list[str | None] | None:
    """A decimal column's values in full (``55909065222.827692``) when a binary float loses
    digits of any of them; None when every value survives as a float (or it is no decimal)."""
    if not (pa.types.is_decimal128(column.type) or pa.types.is_decimal256(column.type)):
        return None
    texts: list[str | None] = []
    lossy = False
    for value in column.to_pylist():
        if value is None or not value.is_finite():
            texts.append(None)
            continue
        if decimal.Decimal(repr(float(value))) != value:
            lossy = True
        texts.append(format(value, "f"))
    return texts if lossy else None


def _row_text(row: list[Any], index: int, exact: Mapping[int, list[str | None]]) -> str:
    """One row as JSON, exact decimals written digit for digit."""
    parts = []
    for j, value in enumerate(row):
        full = exact[j][index] if j in exact else None
        parts.append(full if full is not None else _dumps(value))
    return "[" + ",".join(parts) + "]"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def column_objects(columns: Sequence[OutputColumn]) -> list[dict[str, Any]]:
    """``cols`` of the execute answer."""
    return [
        {
            "name": c.name,
            "display_name": c.display_name,
            "base_type": c.base_type,
            "effective_type": c.effective_type or c.base_type,
            "semantic_type": c.semantic_type,
        }
        for c in columns
    ]


def body_chunks(
    result: QueryResult,
    extra: Mapping[str, Any] | None = None,
    *,
    batch: int = 500,
    chunk: int = 65_536,
) -> Iterator[str]:
    """The success body, in pieces of about ``chunk`` characters (a small body is one piece:
    every piece costs a trip through the server's middleware): header, rows by batches of
    ``batch``, trailer (with ``extra``)."""
    pending = [
        '{"status":"completed","data":{"cols":' + _dumps(column_objects(result.columns)),
        ',"rows":[',
    ]
    size = sum(map(len, pending))
    rows = result.rows
    exact = result.exact
    for start in range(0, len(rows), batch):
        if exact:
            texts = (
                _row_text(r, start + k, exact) for k, r in enumerate(rows[start : start + batch])
            )
            piece = ("," if start else "") + ",".join(texts)
        else:
            piece = ("," if start else "") + _dumps(rows[start : start + batch])[1:-1]
        pending.append(piece)
        size += len(piece)
        if size >= chunk:
            yield "".join(pending)
            pending, size = [], 0
    trailer: dict[str, Any] = {"row_count": result.row_count, "running_time": result.running_ms}
    if result.truncated:
        trailer |= {"truncated": True, "row_limit": result.row_limit}
    trailer |= dict(extra or {})
    pending.append("]}," + _dumps(trailer)[1:])
    yield "".join(pending)


def failed_body(message: str, extra: Mapping[str, Any] | None = None) -> str:
    return _dumps({"status": "failed", "error": message, **(extra or {})})
