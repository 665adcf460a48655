"""Expressions of the model (see :mod:`sextant.model.expressions`) as Ibis values.

Each node becomes the Ibis operation of the same meaning; a column becomes the caller's
value of it (sandboxes applied where its table is read). Arithmetic follows one rule on every
engine: division is in double precision and by zero gives null (as in ratio metrics); with a
floating-point operand, ``+ - *`` are too; otherwise integers and decimals stay exact.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import ibis

from sextant.errors import InvalidRequestError
from sextant.model.expressions import (
    ARITHMETIC,
    Between,
    Binary,
    Case,
    Coalesce,
    Col,
    InList,
    IsNull,
    Lit,
    Node,
    Not,
)
from sextant.query.fields import Column
from sextant.query.resolve import RExpression

__all__ = ["compile_expression", "operand"]

_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": lambda a, b: a.cast("float64") / b.cast("float64").nullif(0),
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "and": operator.and_,
    "or": operator.or_,
}


def _literal(value: object) -> Any:
    if value is None:
        return ibis.null()
    if isinstance(value, float):
        return ibis.literal(value, "float64")
    if isinstance(value, Decimal):
        digits = len(value.as_tuple().digits)
        scale = -int(value.as_tuple().exponent)
        return ibis.literal(value, f"decimal({max(digits, scale + 1)}, {scale})")
    return ibis.literal(value)


def _arithmetic(op: str, left: Any, right: Any) -> Any:
    """``left op right`` typed as every engine computes it (Ibis alone would call a double
    times a decimal literal a decimal)."""
    if left.type().is_null() or right.type().is_null():
        return ibis.null("float64" if op == "/" else _numeric(left, right))
    if op != "/" and left.type().is_floating() != right.type().is_floating():
        left, right = left.cast("float64"), right.cast("float64")
    return _OPERATORS[op](left, right)


def _numeric(left: Any, right: Any) -> Any:
    known = right if left.type().is_null() else left
    return known.type() if not known.type().is_null() else "float64"


def compile_expression(expression: RExpression, value: Callable[[Column], Any]) -> Any:
    """``expression`` over the rows ``value`` reads its columns from."""

    def build(node: Node) -> Any:
        match node:
            case Col():
                return value(expression.column(node))
            case Lit(literal):
                return _literal(literal)
            case Binary(op, left, right) if op in ARITHMETIC:
                return _arithmetic(op, build(left), build(right))
            case Binary(op, left, right):
                return _OPERATORS[op](build(left), build(right))
            case Not(inner):
                return ~build(inner)
            case IsNull(inner, negated):
                built = build(inner)
                return built.notnull() if negated else built.isnull()
            case InList(inner, values, negated):
                built, listed = build(inner), [build(v) for v in values]
                return built.notin(listed) if negated else built.isin(listed)
            case Between(inner, low, high):
                return build(inner).between(build(low), build(high))
            case Coalesce(args):
                return ibis.coalesce(*(build(a) for a in args))
            case Case(whens, default):
                branches = [(build(c), build(v)) for c, v in whens]
                return ibis.cases(*branches, else_=build(default) if default else None)
        raise TypeError(f"unexpected {node!r}")  # pragma: no cover - Node is closed

    try:
        return build(expression.node)
    except Exception as exc:
        raise InvalidRequestError(
            "A definition of the model cannot be computed on this warehouse; check the model."
        ) from exc


def operand(
    column: Column | None, expression: RExpression | None, value: Callable[[Column], Any]
) -> Any:
    """What an aggregation aggregates: its expression, its column, or None (rows)."""
    if expression is not None:
        return compile_expression(expression, value)
    return value(column) if column is not None else None
