"""Mapping warehouse types (as Ibis data types) to Sextant's base types, as data."""

from __future__ import annotations

import ibis.expr.datatypes as dt

__all__ = ["NUMERIC_BASE_TYPES", "TEXT_BASE_TYPES", "base_type_of", "field_type"]

_BASE_TYPES: tuple[tuple[type[dt.DataType], str], ...] = (
    (dt.Boolean, "type/Boolean"),
    (dt.Int64, "type/BigInteger"),
    (dt.UInt64, "type/BigInteger"),
    (dt.Integer, "type/Integer"),
    (dt.Decimal, "type/Decimal"),
    (dt.Floating, "type/Float"),
    (dt.String, "type/Text"),
    (dt.Timestamp, "type/DateTime"),
    (dt.Date, "type/Date"),
    (dt.Time, "type/Time"),
    (dt.UUID, "type/UUID"),
    (dt.JSON, "type/JSON"),
)

NUMERIC_BASE_TYPES = frozenset({"type/Integer", "type/BigInteger", "type/Float", "type/Decimal"})
TEXT_BASE_TYPES = frozenset({"type/Text", "type/UUID"})


def base_type_of(dtype: dt.DataType) -> str:
    """The first base type whose Ibis class matches ``dtype``; ``type/*`` when none does."""
    for cls, base in _BASE_TYPES:
        if isinstance(dtype, cls):
            return base
    return "type/*"


_FIELD_TYPES: tuple[tuple[str, frozenset[str]], ...] = (
    ("boolean", frozenset({"type/Boolean"})),
    ("string", TEXT_BASE_TYPES),
    ("number", NUMERIC_BASE_TYPES),
    ("datetime", frozenset({"type/DateTime"})),
    ("time", frozenset({"type/Time"})),
    ("date", frozenset({"type/Date"})),
)


def field_type(base_type: str, semantic_type: str | None) -> str | None:
    """The Agent API ``type`` of a field (spec §3): the first rule that matches."""
    for name, bases in _FIELD_TYPES:
        if base_type in bases or (name == "string" and semantic_type == "type/Category"):
            if name == "string" and base_type == "type/Boolean":
                continue
            return name
    return None
