"""Filter operations and aggregation functions of the Agent API grammar, as data.

The semantic model (segments, metric filters, sandboxes) and the query compiler share these
tables, so that an operation means the same thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "AGGREGATIONS",
    "BUCKET_RANGES",
    "COMPARISONS",
    "EXTRACTION_RANGES",
    "GRANULARITIES",
    "NUMERIC_TYPES",
    "OPERATIONS",
    "TEMPORAL_TYPES",
    "TRUNCATION_UNITS",
    "Arity",
    "OperationSpec",
    "kind_of",
]


class Arity(Enum):
    NONE = "none"  # existence checks: no value
    ONE_OR_MANY = "one-or-many"  # value or values
    ONE = "one"  # exactly one value (ordering comparisons)


@dataclass(frozen=True)
class OperationSpec:
    name: str
    arity: Arity
    types: frozenset[str]  # column types it applies to: string, number, boolean, temporal, any
    extraction: str | None = None  # temporal part for *-equals operations


_ANY = frozenset({"string", "number", "boolean", "temporal", "any"})
_ORDERED = frozenset({"number", "temporal"})
_TEXT = frozenset({"string"})
_TEMPORAL = frozenset({"temporal"})

EXTRACTION_RANGES: dict[str, tuple[int, int] | None] = {
    "year": (1, 9999),
    "quarter": (1, 4),
    "month": (1, 12),
    "day-of-week": (1, 7),
    "hour": (0, 23),
    "minute": (0, 59),
    "second": (0, 59),
}
"""Parts that the ``<part>-equals`` filter operations compare, with their valid ranges."""

BUCKET_RANGES: dict[str, tuple[int, int]] = {
    "day-of-week": (1, 7),
    "day-of-month": (1, 31),
    "day-of-year": (1, 366),
    "week-of-year": (1, 53),
    "month-of-year": (1, 12),
    "quarter-of-year": (1, 4),
    "hour-of-day": (0, 23),
    "minute-of-hour": (0, 59),
    "second-of-minute": (0, 59),
}
"""Extraction units a temporal filter's ``bucket`` accepts (besides truncation units)."""

TRUNCATION_UNITS: tuple[str, ...] = ("minute", "hour", "day", "week", "month", "quarter", "year")


def _table() -> dict[str, OperationSpec]:
    ops = [
        OperationSpec("is-null", Arity.NONE, _ANY),
        OperationSpec("is-not-null", Arity.NONE, _ANY),
        OperationSpec("string-is-empty", Arity.NONE, _TEXT),
        OperationSpec("string-is-not-empty", Arity.NONE, _TEXT),
        OperationSpec("is-true", Arity.NONE, frozenset({"boolean"})),
        OperationSpec("is-false", Arity.NONE, frozenset({"boolean"})),
        OperationSpec("equals", Arity.ONE_OR_MANY, _ANY),
        OperationSpec("not-equals", Arity.ONE_OR_MANY, _ANY),
        OperationSpec("greater-than", Arity.ONE, _ORDERED),
        OperationSpec("greater-than-or-equal", Arity.ONE, _ORDERED),
        OperationSpec("less-than", Arity.ONE, _ORDERED),
        OperationSpec("less-than-or-equal", Arity.ONE, _ORDERED),
        OperationSpec("string-contains", Arity.ONE_OR_MANY, _TEXT),
        OperationSpec("string-not-contains", Arity.ONE_OR_MANY, _TEXT),
        OperationSpec("string-starts-with", Arity.ONE_OR_MANY, _TEXT),
        OperationSpec("string-ends-with", Arity.ONE_OR_MANY, _TEXT),
    ]
    for part in EXTRACTION_RANGES:
        ops.append(OperationSpec(f"{part}-equals", Arity.ONE_OR_MANY, _TEMPORAL, part))
        ops.append(OperationSpec(f"{part}-not-equals", Arity.ONE_OR_MANY, _TEMPORAL, part))
    return {op.name: op for op in ops}


OPERATIONS: dict[str, OperationSpec] = _table()

COMPARISONS = frozenset(
    {
        "equals",
        "not-equals",
        "greater-than",
        "greater-than-or-equal",
        "less-than",
        "less-than-or-equal",
    }
)
"""Operations that compare a value with ``=``, ``≠``, ``<``, ``≤``, ``>``, ``≥``."""

AGGREGATIONS: frozenset[str] = frozenset({"avg", "count", "count-distinct", "max", "min", "sum"})

GRANULARITIES: tuple[str, ...] = (
    "minute",
    "hour",
    "day",
    "week",
    "month",
    "quarter",
    "year",
    "day-of-week",
    # Metabase's other extraction units: a number, grouped on
    "minute-of-hour",
    "hour-of-day",
    "day-of-month",
    "day-of-year",
    "week-of-year",
    "month-of-year",
    "quarter-of-year",
)


TEMPORAL_TYPES = frozenset({"type/Date", "type/DateTime", "type/Time"})
NUMERIC_TYPES = frozenset({"type/Integer", "type/BigInteger", "type/Float", "type/Decimal"})


def kind_of(base_type: str) -> str:
    """The operation family a column belongs to: number, string, boolean, temporal, other."""
    if base_type in NUMERIC_TYPES:
        return "number"
    if base_type in TEMPORAL_TYPES:
        return "temporal"
    if base_type == "type/Boolean":
        return "boolean"
    if base_type in {"type/Text", "type/UUID"}:
        return "string"
    return "other"
