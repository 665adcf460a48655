"""Turning result rows into the execute response of spec §6, streamed in pieces."""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyarrow as pa

from sextant.query.compile import OutputColumn

__all__ = ["completed_chunks", "failed_body", "json_value"]

_SAFE_INTEGER = 2**53


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


def _as_declared(base_type: str) -> Callable[[Any], Any]:
    """Bring an engine's value to the column's declared type before JSON.

    DuckDB sums integers into HUGEINT (arrow decimals) and truncates DATEs into TIMESTAMPs;
    the declared type is what the caller was promised.
    """
    if base_type in ("type/Integer", "type/BigInteger"):
        return _integer
    if base_type == "type/Date":
        return lambda v: json_value(v.date() if isinstance(v, _dt.datetime) else v)
    return json_value


_PLAIN = frozenset({"type/Text", "type/Boolean"})


def _column_values(column: pa.ChunkedArray, base_type: str) -> list[Any]:
    """A column's values ready for JSON, converting only where the type needs it."""
    values: list[Any] = column.to_pylist()
    if base_type in _PLAIN and all(isinstance(v, str | bool) or v is None for v in values):
        return values
    if base_type == "type/Float":
        return [v if isinstance(v, float) and math.isfinite(v) else json_value(v) for v in values]
    convert = _as_declared(base_type)
    return [convert(v) for v in values]


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def completed_chunks(
    table: pa.Table,
    columns: Sequence[OutputColumn],
    *,
    row_cap: int,
    cap_binds: bool,
    running_ms: int,
    batch: int = 500,
) -> Iterator[str]:
    """The success body, in pieces: header, rows by batches, trailer."""
    truncated = cap_binds and table.num_rows > row_cap
    shown = table.slice(0, row_cap) if table.num_rows > row_cap else table
    cols = [
        {"name": c.name, "base_type": c.base_type, "display_name": c.display_name} for c in columns
    ]
    yield '{"status":"completed","data":{"cols":' + _dumps(cols) + ',"rows":['
    values = [_column_values(shown.column(i), c.base_type) for i, c in enumerate(columns)]
    for start in range(0, shown.num_rows, batch):
        end = min(start + batch, shown.num_rows)
        rows = list(zip(*(v[start:end] for v in values), strict=True))
        yield ("," if start else "") + _dumps(rows)[1:-1]
    trailer: dict[str, Any] = {"row_count": shown.num_rows, "running_time": running_ms}
    if truncated:
        trailer |= {"truncated": True, "row_limit": row_cap}
    yield "]}," + _dumps(trailer)[1:]


def failed_body(message: str) -> str:
    return _dumps({"status": "failed", "error": message})
