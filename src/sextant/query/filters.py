"""Compiling one filter of the Agent API grammar to an Ibis boolean expression.

Shared by segments, metric filters, sandboxes and query filters, so that an operation means
the same everywhere. Semantics (spec §6):
- several ``values`` mean any-of; for negative operations, none-of;
- negative operations (not-equals, string-not-contains, *-not-equals) keep NULL rows;
- string matching other than equality is case-insensitive;
- a date-only value against a datetime column compares whole days.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import operator
import re
from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir

from sextant.model.operations import (
    BUCKET_RANGES,
    EXTRACTION_RANGES,
    OPERATIONS,
    TEMPORAL_TYPES,
    kind_of,
)
from sextant.query.temporal import (
    TRUNCATIONS,
    UTC_RULES,
    TimeRules,
    extract,
    localize,
    parse_temporal,
    truncate,
    truncate_value,
)
from sextant.warehouse.engines import DEFAULT_PROFILE, EngineProfile

__all__ = ["TEMPORAL", "coerce_values", "compile_filter", "kind_of"]

TEMPORAL = TEMPORAL_TYPES
_COMPARE = {
    "greater-than": operator.gt,
    "greater-than-or-equal": operator.ge,
    "less-than": operator.lt,
    "less-than-or-equal": operator.le,
}
_STRING_TESTS = {
    "string-contains": lambda c, v: c.contains(v),
    "string-not-contains": lambda c, v: c.contains(v),
    "string-starts-with": lambda c, v: c.startswith(v),
    "string-ends-with": lambda c, v: c.endswith(v),
}
# the same tests by position, for engines whose LIKE patterns Ibis leaves unescaped
_AFFIX_TESTS = {
    "string-starts-with": lambda c, v: c.left(len(v)) == v,
    "string-ends-with": lambda c, v: c.right(len(v)) == v,
}


def _string_test(operation: str, engine: EngineProfile) -> Any:
    if engine.unescaped_like:
        return _AFFIX_TESTS.get(operation, _STRING_TESTS[operation])
    return _STRING_TESTS[operation]


_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INT64 = (-(2**63), 2**63 - 1)
_INTEGER_RANGES = {"type/Integer": (-(2**31), 2**31 - 1), "type/BigInteger": _INT64}


def _number(value: object) -> int | float:
    """A finite number (ASCII digits when written as text), integers within 64 bits."""
    if isinstance(value, bool):
        raise ValueError("expected a number")
    number: int | float
    if isinstance(value, int | float):
        number = value
    elif isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
        text = value.strip()
        number = int(text) if text.lstrip("+-").isdigit() else float(text)
    else:
        raise ValueError("expected a number")
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError("expected a finite number")
    if isinstance(number, int) and not _INT64[0] <= number <= _INT64[1]:
        raise ValueError(f"{number} is out of range (numbers are at most 64-bit integers)")
    return number


def _in_range(base_type: str, number: int | float) -> int | float:
    bounds = _INTEGER_RANGES.get(base_type)
    if bounds is not None and not bounds[0] <= number <= bounds[1]:
        raise ValueError(f"{number} is out of range ({bounds[0]} to {bounds[1]})")
    return number


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise ValueError("expected a boolean")


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    if "\x00" in value:
        raise ValueError("text values must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text values must be valid Unicode (not a lone surrogate)") from None
    return value


def coerce_values(
    base_type: str,
    operation: str,
    bucket: str | None,
    values: Sequence[object],
    zone: str = "UTC",
) -> list[Any]:
    """Values typed for the column and operation; ValueError says what was expected. Dates
    and times with an offset become the wall clock of ``zone``."""
    op = OPERATIONS[operation]
    if op.extraction is not None or (bucket is not None and bucket not in TRUNCATIONS):
        part = op.extraction or bucket or ""
        out = []
        for value in values:
            number = _number(value)
            if not isinstance(number, int) and not float(number).is_integer():
                raise ValueError("expected an integer")
            whole = int(number)
            bounds = EXTRACTION_RANGES.get(part) or BUCKET_RANGES.get(part)
            if bounds is not None and not bounds[0] <= whole <= bounds[1]:
                raise ValueError(f"{part} must be between {bounds[0]} and {bounds[1]}")
            out.append(whole)
        return out
    kind = kind_of(base_type)
    if kind == "number":
        return [_in_range(base_type, _number(v)) for v in values]
    if kind == "boolean":
        return [_boolean(v) for v in values]
    if kind == "temporal":
        return [parse_temporal(v, base_type, zone) for v in values]
    return [_string(v) for v in values]


def _any(parts: list[ir.BooleanValue]) -> ir.BooleanValue:
    return functools.reduce(operator.or_, parts)


def _temporal_side(
    column: Any,
    base_type: str,
    value: Any,
    bucket: str | None,
    engine: EngineProfile,
    week_start: int,
) -> tuple[Any, Any]:
    """Column and literal, brought to the same unit."""
    if bucket in TRUNCATIONS:
        side: Any = truncate(column, bucket, engine, week_start)
        literal: Any = truncate_value(value, bucket, week_start)
    elif base_type == "type/DateTime" and type(value) is _dt.date:
        side, literal = column.date(), value
    else:
        side, literal = column, value
    if engine.text_temporals and not side.type().is_time():
        # ISO texts in different spellings ('2023-04-01', '2023-04-01 00:00:00',
        # '2023-04-01T00:00') name one instant: compare them as seconds
        if side.type().is_date():
            side = side.cast("timestamp")
        right = ibis.literal(literal)
        if right.type().is_date():
            right = right.cast("timestamp")
        return side.epoch_seconds(), right.epoch_seconds()
    return side, literal


_DATED = frozenset({"type/Date", "type/DateTime"})


def _year_range(local: Any, base_type: str, year: int, engine: EngineProfile) -> Any:
    """``year-equals``: the column within [1 January, next 1 January) rather than the year it
    extracts, so that engines prune partitions and use indexes (the same rows)."""
    start = _dt.date(year, 1, 1)
    end = _dt.date(year + 1, 1, 1) if year < 9999 else None
    bounds: list[_dt.date | None] = [start, end]
    if base_type == "type/DateTime":
        bounds = [_dt.datetime(d.year, 1, 1) if d else None for d in (start, end)]
    low_side, low = _temporal_side(local, base_type, bounds[0], None, engine, 1)
    matched = low_side >= (low if isinstance(low, ir.Expr) else ibis.literal(low))
    if bounds[1] is not None:
        high_side, high = _temporal_side(local, base_type, bounds[1], None, engine, 1)
        matched = matched & (
            high_side < (high if isinstance(high, ir.Expr) else ibis.literal(high))
        )
    return matched


def compile_filter(
    column: Any,
    base_type: str,
    operation: str,
    values: Sequence[Any],
    bucket: str | None = None,
    engine: EngineProfile = DEFAULT_PROFILE,
    rules: TimeRules = UTC_RULES,
) -> ir.BooleanValue:
    """``column`` (an Ibis column) filtered by ``operation`` over already-coerced ``values``.
    Dates and times are compared as the wall clock of the report zone; weeks start on its
    first day; ``*-equals`` weekday filters stay ISO (1 = Monday), as in Metabase."""
    op = OPERATIONS[operation]
    if operation == "is-null":
        return column.isnull()
    if operation == "is-not-null":
        return column.notnull()
    if operation == "string-is-empty":
        return column.isnull() | (column == "")
    if operation == "string-is-not-empty":
        return column.notnull() & (column != "")
    if operation == "is-true":
        return column == ibis.literal(True)
    if operation == "is-false":
        return column == ibis.literal(False)
    negative = operation.endswith("not-equals") or operation == "string-not-contains"
    local = localize(column, rules, engine) if base_type in TEMPORAL else column
    if op.extraction == "year" and base_type in _DATED:
        matched = _any([_year_range(local, base_type, int(v), engine) for v in values])
    elif op.extraction is not None:
        part = extract(local, op.extraction, engine)
        matched = part.isin(list(values))
    elif bucket is not None and bucket in BUCKET_RANGES:
        part = extract(local, bucket, engine)
        matched = (
            _any([part == v for v in values])
            if operation in ("equals", "not-equals")
            else (_any([_COMPARE[operation](part, v) for v in values]))
        )
    elif operation in _STRING_TESTS:
        lowered = column.lower()
        test = _string_test(operation, engine)
        matched = _any([test(lowered, str(v).lower()) for v in values])
    elif base_type in TEMPORAL:
        parts = []
        for value in values:
            side, literal = _temporal_side(
                local, base_type, value, bucket, engine, rules.week_start
            )
            compare = _COMPARE.get(operation, operator.eq)
            right = literal if isinstance(literal, ir.Expr) else ibis.literal(literal)
            parts.append(compare(side, right))
        matched = _any(parts)
    elif operation in _COMPARE:
        matched = _COMPARE[operation](column, values[0])
    else:
        matched = column.isin(list(values))
    if negative:
        return column.isnull() | ~matched
    return matched
