"""Parameter types of saved questions, as data: which columns each fits, what values it takes,
and the filters a value turns into.

Shared by ``check`` (defaults and allowed values) and by card runs (the caller's values), so
that a parameter type means the same thing everywhere. Pure: values in, filter conditions
out; the query layer coerces and compiles them like any other filter.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "PARAMETER_TYPES",
    "Condition",
    "ParameterType",
    "allowed",
    "atoms",
    "choice_atoms",
    "conditions",
]

Scalar = str | int | float | bool


@dataclass(frozen=True)
class Condition:
    """One filter in the Agent API grammar: ``operation`` over ``values`` (JSON-ready)."""

    operation: str
    values: tuple[Scalar, ...]
    bucket: str | None = None


@dataclass(frozen=True)
class ParameterType:
    name: str
    kinds: frozenset[str]  # column kinds it fits: string, number, boolean, temporal
    expects: str  # what a value looks like, for messages
    parse: Callable[[object, str], list[Condition]]  # (value, column kind) -> conditions


# -- atomic values ---------------------------------------------------------------------------


def _number(value: object) -> int | float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ValueError
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            return int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else _number(float(text))
        except (ValueError, OverflowError):
            raise ValueError from None
    raise ValueError


def _text(value: object) -> str:
    if isinstance(value, str) and "\x00" not in value:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError from None
        return value
    raise ValueError


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError


_ATOMS: dict[str, Callable[[object], Scalar]] = {
    "string": _text,
    "number": _number,
    "boolean": _boolean,
}


def _atom(value: object, kind: str) -> Scalar:
    return _ATOMS.get(kind, _text)(value)


def atoms(value: object) -> list[object]:
    """A value or a list of values, as a list (Metabase sends both forms)."""
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _one(value: object) -> object:
    """A single value, also when sent as a one-element list (Metabase's usual form)."""
    items = atoms(value)
    if len(items) != 1:
        raise ValueError
    return items[0]


def _day(text: object) -> str:
    if not isinstance(text, str):
        raise ValueError
    try:
        return _dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise ValueError from None


# -- what each type turns into ---------------------------------------------------------------


def _any_of(operation: str) -> Callable[[object, str], list[Condition]]:
    def parse(value: object, kind: str) -> list[Condition]:
        items = atoms(value)
        if not items:
            raise ValueError
        return [Condition(operation, tuple(_atom(v, kind) for v in items))]

    return parse


def _text_test(operation: str) -> Callable[[object, str], list[Condition]]:
    def parse(value: object, kind: str) -> list[Condition]:
        del kind
        items = atoms(value)
        if not items or any(not isinstance(v, str) or not v for v in items):
            raise ValueError
        return [Condition(operation, tuple(_text(v) for v in items))]

    return parse


def _compare(operation: str) -> Callable[[object, str], list[Condition]]:
    def parse(value: object, kind: str) -> list[Condition]:
        del kind
        return [Condition(operation, (_number(_one(value)),))]

    return parse


def _between(value: object, kind: str) -> list[Condition]:
    del kind
    items = atoms(value)
    if len(items) != 2 or all(v is None for v in items):
        raise ValueError
    low, high = (None if v is None else _number(v) for v in items)
    if low is not None and high is not None and low > high:
        raise ValueError
    out = []
    if low is not None:
        out.append(Condition("greater-than-or-equal", (low,)))
    if high is not None:
        out.append(Condition("less-than-or-equal", (high,)))
    return out


def _single_date(value: object, kind: str) -> list[Condition]:
    del kind
    return [Condition("equals", (_day(_one(value)),))]


def _date_range(value: object, kind: str) -> list[Condition]:
    del kind
    text = _one(value)
    if not isinstance(text, str) or text.count("~") != 1:
        raise ValueError
    start, end = (part.strip() for part in text.split("~"))
    if not start and not end:
        raise ValueError
    out = []
    if start:
        out.append(Condition("greater-than-or-equal", (_day(start),)))
    if end:
        out.append(Condition("less-than-or-equal", (_day(end),)))
    if start and end and _day(start) > _day(end):
        raise ValueError
    return out


def _month_year(value: object, kind: str) -> list[Condition]:
    del kind
    text = _one(value)
    match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip()) if isinstance(text, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise ValueError
    first = _dt.date(int(match.group(1)), int(match.group(2)), 1).isoformat()
    return [Condition("equals", (first,), "month")]


def _quarter_year(value: object, kind: str) -> list[Condition]:
    del kind
    text = _one(value)
    match = re.fullmatch(r"Q([1-4])-(\d{4})", text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError
    first = _dt.date(int(match.group(2)), 3 * int(match.group(1)) - 2, 1).isoformat()
    return [Condition("equals", (first,), "quarter")]


_TEXT = frozenset({"string"})
_NUMBER = frozenset({"number"})
_DATE = frozenset({"temporal"})
_EQUAL = frozenset({"string", "number", "boolean"})


def _table() -> dict[str, ParameterType]:
    kinds = [
        ParameterType("category", _EQUAL, "one value or a list of values", _any_of("equals")),
        ParameterType("id", _EQUAL, "one value or a list of values", _any_of("equals")),
        ParameterType("string/=", _TEXT, "one text or a list of texts", _any_of("equals")),
        ParameterType("string/!=", _TEXT, "one text or a list of texts", _any_of("not-equals")),
        ParameterType("string/contains", _TEXT, "a non-empty text", _text_test("string-contains")),
        ParameterType(
            "string/does-not-contain",
            _TEXT,
            "a non-empty text",
            _text_test("string-not-contains"),
        ),
        ParameterType(
            "string/starts-with", _TEXT, "a non-empty text", _text_test("string-starts-with")
        ),
        ParameterType(
            "string/ends-with", _TEXT, "a non-empty text", _text_test("string-ends-with")
        ),
        ParameterType("number/=", _NUMBER, "a number or a list of numbers", _any_of("equals")),
        ParameterType("number/!=", _NUMBER, "a number or a list of numbers", _any_of("not-equals")),
        ParameterType("number/>=", _NUMBER, "one number", _compare("greater-than-or-equal")),
        ParameterType("number/<=", _NUMBER, "one number", _compare("less-than-or-equal")),
        ParameterType(
            "number/between",
            _NUMBER,
            "[low, high], inclusive, low <= high (null for an open end)",
            _between,
        ),
        ParameterType("date/single", _DATE, "one day like 2024-03-05", _single_date),
        ParameterType(
            "date/range",
            _DATE,
            "a range of days like 2024-01-01~2024-03-31 (both days included; "
            "leave one side empty for an open range)",
            _date_range,
        ),
        ParameterType("date/month-year", _DATE, "a month like 2024-03", _month_year),
        ParameterType("date/quarter-year", _DATE, "a quarter like Q1-2024", _quarter_year),
    ]
    return {kind.name: kind for kind in kinds}


PARAMETER_TYPES: dict[str, ParameterType] = _table()


def conditions(type_name: str, value: object, column_kind: str) -> list[Condition]:
    """The filters ``value`` means for a parameter of ``type_name`` on a column of
    ``column_kind``; ValueError says what the type expects."""
    kind = PARAMETER_TYPES[type_name]
    try:
        return kind.parse(value, column_kind)
    except (ValueError, TypeError, OverflowError):
        expected = kind.expects
        if type_name in ("category", "id") or type_name.endswith(("/=", "/!=")):
            expected += f" ({_KIND_WORDS.get(column_kind, column_kind)})"
        raise ValueError(expected) from None


_KIND_WORDS = {"string": "texts", "number": "numbers", "boolean": "true or false"}


def choice_atoms(type_name: str, value: object, column_kind: str) -> list[Scalar]:
    """The atoms of ``value`` that are compared with a parameter's allowed values: the typed
    values for the value types, the days or periods as written for the date types."""
    made = conditions(type_name, value, column_kind)  # raises ValueError when malformed
    if type_name.startswith("date/"):
        return [a.strip() for a in atoms(value) if isinstance(a, str)]
    return [v for condition in made for v in condition.values]


def allowed(value: Scalar, choices: Sequence[Any]) -> bool:
    """Whether an atomic value is one of ``choices`` (numbers compared as numbers)."""
    for choice in choices:
        if isinstance(value, bool) or isinstance(choice, bool):
            if value is choice:
                return True
        elif isinstance(value, int | float) and isinstance(choice, int | float):
            if value == choice:
                return True
        elif value == choice:
            return True
    return False
