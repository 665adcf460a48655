"""Metric kinds beyond one aggregation: ratios, derived metrics (with offsets), running totals.

Every metric is stored as an expression over named *parts*, each one aggregation of the
metric's table with its own filters and, for period-over-period, an offset:

- ``simple``: one part, ``value``;
- ``ratio``: ``numerator / denominator`` (a zero or null denominator gives null);
- ``derived``: an arithmetic expression over other metrics of the same table, each becoming
  parts (a derived input's own expression is substituted in parentheses);
- ``cumulative``: one part, accumulated over the time dimension's periods (all time, over a
  trailing ``window``, or to date within a ``grain``).

Pure logic: parsing periods and expressions, grains, and the expansion that ``apply`` stores.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CUMULATIVE_FUNCTIONS",
    "GRAINS",
    "METRIC_TYPES",
    "PERIOD_UNITS",
    "Binary",
    "Number",
    "Part",
    "Period",
    "Ref",
    "Term",
    "Unary",
    "card_granularity",
    "cycle",
    "expand",
    "index_units",
    "parse_expression",
    "parse_period",
    "part_count",
    "render",
    "stored",
    "term_names",
]

METRIC_TYPES = ("simple", "ratio", "derived", "cumulative")
# a running total can be built from per-period values only for these: a running average or
# distinct count is not a function of the periods' own averages or distinct counts
CUMULATIVE_FUNCTIONS = ("sum", "count", "min", "max")
GRAINS = ("week", "month", "quarter", "year")  # to-date grains of a cumulative metric

# units of offsets and windows, with their family (periods counted in days or in months) and
# their length in that family's unit
PERIOD_UNITS: dict[str, tuple[str, int]] = {
    "day": ("days", 1),
    "week": ("days", 7),
    "month": ("months", 1),
    "quarter": ("months", 3),
    "year": ("months", 12),
}
# the same for the granularity a query groups the time dimension by
_BREAKOUTS: dict[str, tuple[str, int]] = PERIOD_UNITS


@dataclass(frozen=True)
class Period:
    count: int
    unit: str  # a key of PERIOD_UNITS

    def __str__(self) -> str:
        return f"{self.count} {self.unit}{'' if self.count == 1 else 's'}"


_PERIOD = re.compile(r"^\s*(\d{1,4})\s+([a-z]+?)s?\s*$")


def parse_period(text: str) -> Period:
    """``1 month``, ``30 days``, ``2 quarters``; ValueError in words otherwise."""
    found = _PERIOD.match(str(text).lower())
    if found is None:
        raise ValueError(f"{text!r} is not a period: write a count and a unit, like '1 month'")
    count, unit = int(found.group(1)), found.group(2)
    if unit not in PERIOD_UNITS:
        known = ", ".join(PERIOD_UNITS)
        raise ValueError(f"{unit!r} is not a unit that can offset or window ({known})")
    if count < 1:
        raise ValueError(f"{text!r}: the count must be at least 1")
    return Period(count, unit)


def index_units(period: Period, granularity: str) -> int:
    """``period`` counted in the index of periods of ``granularity`` (days for day and week
    breakouts, months for month, quarter and year); ValueError when it is not a whole number
    of the breakout's periods."""
    if granularity not in _BREAKOUTS:
        raise ValueError(
            f"offsets and windows need the time dimension grouped by "
            f"{', '.join(_BREAKOUTS)}, not {granularity}"
        )
    family, step = _BREAKOUTS[granularity]
    unit_family, length = PERIOD_UNITS[period.unit]
    if unit_family != family or (period.count * length) % step:
        raise ValueError(
            f"{period} is not a whole number of {granularity}s: group the time dimension by "
            f"{_fitting(period)}"
        )
    return period.count * length


def _fitting(period: Period) -> str:
    family, length = PERIOD_UNITS[period.unit]
    total = period.count * length
    fits = [g for g, (f, step) in _BREAKOUTS.items() if f == family and total % step == 0]
    return " or ".join(fits)


# -- expressions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Unary:
    operand: Term  # negation


@dataclass(frozen=True)
class Binary:
    op: str  # + - * /
    left: Term
    right: Term


Term = Number | Ref | Unary | Binary

# the typeset signs (multiplication, division, minus) as Python writes them
MAX_EXPRESSION = 1000  # characters: far beyond any real formula, far below Python's limits
_TYPESET = str.maketrans({"\u00d7": "*", "\u00f7": "/", "\u2212": "-"})
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def parse_expression(text: str) -> Term:
    """``revenue / revenue_last_month - 1``: names, numbers, + - * / and parentheses only;
    ValueError in words otherwise."""
    spelled = str(text).translate(_TYPESET)
    if len(spelled) > MAX_EXPRESSION:
        raise ValueError(f"a metric expression has at most {MAX_EXPRESSION} characters")
    try:
        tree = ast.parse(spelled.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"{text!r} is not an arithmetic expression ({exc.msg})") from None
    except (RecursionError, MemoryError):
        raise ValueError("the metric expression is nested too deeply") from None

    def term(node: ast.AST) -> Term:
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return Binary(_OPS[type(node.op)], term(node.left), term(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = term(node.operand)
            return Unary(inner) if isinstance(node.op, ast.USub) else inner
        value = node.value if isinstance(node, ast.Constant) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value) if abs(value) < 1e300 else math.inf
            if not math.isfinite(number):
                raise ValueError(f"{value!r} is too large a number for a metric expression")
            return Number(number)
        if isinstance(node, ast.Name):
            return Ref(node.id)
        shown = ast.get_source_segment(spelled, node) or type(node).__name__
        raise ValueError(
            f"{shown!r} is not allowed in a metric expression: use the inputs' names, "
            "numbers, + - * / and parentheses"
        )

    try:
        return term(tree.body)
    except RecursionError:
        raise ValueError("the metric expression is nested too deeply") from None


def term_names(term: Term) -> list[str]:
    """The names a term refers to, in order of appearance (repeated as they appear)."""
    if isinstance(term, Ref):
        return [term.name]
    if isinstance(term, Unary):
        return term_names(term.operand)
    if isinstance(term, Binary):
        return term_names(term.left) + term_names(term.right)
    return []


def render(term: Term) -> str:
    """The term as text that :func:`parse_expression` reads back to the same term."""
    if isinstance(term, Number):
        return repr(term.value)
    if isinstance(term, Ref):
        return term.name
    if isinstance(term, Unary):
        return f"-({render(term.operand)})"
    return f"({render(term.left)} {term.op} {render(term.right)})"


def _rename(term: Term, names: Mapping[str, Term]) -> Term:
    if isinstance(term, Ref):
        return names.get(term.name, term)
    if isinstance(term, Unary):
        return Unary(_rename(term.operand, names))
    if isinstance(term, Binary):
        return Binary(term.op, _rename(term.left, names), _rename(term.right, names))
    return term


# -- expansion -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One aggregation of a metric's table: ``aggregation`` and ``filters`` as in the model
    (dicts), ``offset`` as text (``1 month``) or None."""

    aggregation: dict[str, Any]
    filters: tuple[dict[str, Any], ...] = ()
    offset: str | None = None

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {"aggregation": self.aggregation, "filters": list(self.filters)}
        if self.offset is not None:
            out["offset"] = self.offset
        return out


def _inputs(definition: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(definition.get("metrics") or ())


def cycle(definitions: Mapping[str, Mapping[str, Any]], start: str) -> list[str] | None:
    """The names of a cycle of derived metrics through ``start`` (``[a, b, a]``), if any."""
    path: list[str] = []
    done: set[str] = set()  # explored without meeting ``start``: never again

    def visit(name: str) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name] if name == start else None
        definition = definitions.get(name)
        if name in done or definition is None or definition.get("type") != "derived":
            return None
        path.append(name)
        for entry in _inputs(definition):
            found = visit(str(entry.get("metric")))
            if found is not None:
                return found
        path.pop()
        done.add(name)
        return None

    return visit(start)


def part_count(definitions: Mapping[str, Mapping[str, Any]], name: str) -> int:
    """How many parts ``name`` expands to (cycles and unknown names count as one)."""
    counted: dict[str, int] = {}

    def count(current: str, depth: int) -> int:
        definition = definitions.get(current)
        if definition is None or depth > len(definitions):
            return 1
        if current not in counted:
            kind = definition.get("type", "simple")
            if kind == "ratio":
                counted[current] = 2
            elif kind == "derived":
                counted[current] = sum(
                    count(str(e.get("metric")), depth + 1) for e in _inputs(definition)
                )
            else:
                counted[current] = 1
        return counted[current]

    return count(name, 0)


def expand(definitions: Mapping[str, Mapping[str, Any]], name: str) -> tuple[dict[str, Part], Term]:
    """A checked metric's parts and expression over them, inputs of derived metrics expanded
    (each input's parts renamed under its alias, its own filters kept on its parts)."""
    definition = definitions[name]
    kind = definition.get("type", "simple")
    if kind in ("simple", "cumulative"):
        return {"value": Part(dict(definition["aggregation"]))}, Ref("value")
    if kind == "ratio":
        parts = {}
        for side in ("numerator", "denominator"):
            spec = dict(definition[side])
            if spec.get("metric"):
                inner, _ = expand(definitions, spec["metric"])
                base = inner["value"]
                filters = (*base.filters, *_filters_of(definitions[spec["metric"]]))
                parts[side] = Part(base.aggregation, (*filters, *spec.get("filters", ())))
            else:
                aggregation = {
                    k: spec[k] for k in ("function", "column", "expression") if spec.get(k)
                }
                parts[side] = Part(aggregation, tuple(spec.get("filters", ())))
        return parts, Binary("/", Ref("numerator"), Ref("denominator"))
    parts = {}
    substitutes: dict[str, Term] = {}
    for entry in _inputs(definition):
        alias = str(entry.get("alias") or entry["metric"])
        inner_parts, inner_term = expand(definitions, entry["metric"])
        own = _filters_of(definitions[entry["metric"]])
        offset = entry.get("offset")
        renamed: dict[str, Term] = {}
        for part_name, part in inner_parts.items():
            new_name = f"{alias}__{part_name}"
            renamed[part_name] = Ref(new_name)
            parts[new_name] = Part(part.aggregation, (*part.filters, *own), part.offset or offset)
        substitutes[alias] = _rename(inner_term, renamed)
    return parts, _rename(parse_expression(definition["expression"]), substitutes)


def _filters_of(definition: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    return tuple(definition.get("filters") or ())


def stored(definitions: Mapping[str, Mapping[str, Any]], name: str) -> dict[str, Any]:
    """What the application database keeps of a checked metric (``definitions``: every
    metric as the model dumps it): a simple metric's aggregation and filters as written; any
    other kind adds its parts, their expression and its accumulation."""
    definition = definitions[name]
    out: dict[str, Any] = {"filters": list(definition.get("filters") or ())}
    if definition.get("aggregation"):
        out["aggregation"] = dict(definition["aggregation"])
    kind = definition.get("type", "simple")
    if kind == "simple":
        return out
    parts, term = expand(definitions, name)
    out |= {
        "type": kind,
        "parts": {part_name: part.dump() for part_name, part in parts.items()},
        "expression": render(term),
    }
    if kind == "derived":
        out["formula"] = definition["expression"]  # as written, for people and search
    for key in ("window", "grain"):
        if definition.get(key):
            out[key] = definition[key]
    return out


def _fits(period: Period, granularity: str) -> bool:
    try:
        index_units(period, granularity)
    except ValueError:
        return False
    return True


_FINER = {"year": "month", "quarter": "month", "month": "day", "week": "day"}


def card_granularity(definition: Mapping[str, Any]) -> str | None:
    """The breakout of a metric's time dimension when it runs as a card, with no query of
    its own: None for metrics that mean something as one number; for metrics along time,
    the unit of their offset or window, the period below their grain, or months."""
    parts = definition.get("parts") or {}
    offsets = [parse_period(p["offset"]) for p in parts.values() if p.get("offset")]
    if offsets:
        fitting = [g for g in reversed(PERIOD_UNITS) if all(_fits(o, g) for o in offsets)]
        return fitting[0] if fitting else None
    if definition.get("type") != "cumulative":
        return None
    if definition.get("window"):
        return parse_period(definition["window"]).unit
    if definition.get("grain"):
        return _FINER[definition["grain"]]
    return "month"
