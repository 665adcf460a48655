"""Expressions in the model: what a measure aggregates and what a segment keeps.

A measure or metric may aggregate an arithmetic expression over columns instead of one
column (``l_extendedprice * (1 - l_discount)``), and a segment may keep the rows a boolean
condition holds for (``l_commitdate < l_receiptdate and (l_shipmode = 'MAIL' or …)``).

The text is parsed by sqlglot and kept only if every node is on a short list: columns (of the
table, or ``TABLE.COLUMN`` of a table one of its foreign keys points to), numbers, strings,
``date '…'`` and ``timestamp '…'``, ``true``/``false``/``null``, ``+ - * /``, comparisons,
``and``/``or``/``not``, ``is [not] null``, ``[not] in (…)``, ``between``, ``coalesce`` and
``case when … then … else … end``. Anything else is refused with what it was. The result is
a small tree of frozen nodes that the query layer compiles through Ibis: the text never
reaches a warehouse.

Pure logic: parsing, the kinds of values (number, string, temporal, boolean), and the
columns an expression reads.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import sqlglot
import sqlglot.expressions as sge

__all__ = [
    "ARITHMETIC",
    "MAX_LENGTH",
    "MAX_NODES",
    "Between",
    "Binary",
    "Case",
    "Coalesce",
    "Col",
    "ExpressionError",
    "InList",
    "IsNull",
    "Lit",
    "Node",
    "Not",
    "columns_of",
    "kind_of_expression",
    "nearest_chains",
    "parse",
]

MAX_LENGTH = 2000  # characters of one expression
MAX_NODES = 200  # nodes of its tree

ARITHMETIC = ("+", "-", "*", "/")
COMPARISONS = ("=", "<>", "<", "<=", ">", ">=")
LOGICAL = ("and", "or")


class ExpressionError(ValueError):
    """An expression that cannot be used, with what is wrong in words."""


@dataclass(frozen=True)
class Col:
    table: str | None  # None: the expression's own table
    name: str

    def __str__(self) -> str:
        return self.name if self.table is None else f"{self.table}.{self.name}"


Value = int | Decimal | float | str | bool | dt.date | dt.datetime | None


@dataclass(frozen=True)
class Lit:
    value: Value


@dataclass(frozen=True)
class Binary:
    op: str  # one of ARITHMETIC, COMPARISONS, LOGICAL
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class IsNull:
    operand: Node
    negated: bool = False


@dataclass(frozen=True)
class InList:
    operand: Node
    values: tuple[Node, ...]
    negated: bool = False


@dataclass(frozen=True)
class Between:
    operand: Node
    low: Node
    high: Node


@dataclass(frozen=True)
class Coalesce:
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Case:
    whens: tuple[tuple[Node, Node], ...]  # (condition, value)
    default: Node | None


Node = Col | Lit | Binary | Not | IsNull | InList | Between | Coalesce | Case

_BINARY: dict[type[sge.Expr], str] = {
    sge.Add: "+",
    sge.Sub: "-",
    sge.Mul: "*",
    sge.Div: "/",
    sge.EQ: "=",
    sge.NEQ: "<>",
    sge.LT: "<",
    sge.LTE: "<=",
    sge.GT: ">",
    sge.GTE: ">=",
    sge.And: "and",
    sge.Or: "or",
}
_TEMPORAL_LITERALS: dict[object, Callable[[str], Value]] = {
    sge.DataType.Type.DATE: dt.date.fromisoformat,
    sge.DataType.Type.TIMESTAMP: dt.datetime.fromisoformat,
    sge.DataType.Type.TIMESTAMPNTZ: dt.datetime.fromisoformat,  # sqlglot's timestamp '…'
    sge.DataType.Type.DATETIME: dt.datetime.fromisoformat,
}
# what some nodes are called in an error, where sqlglot's class name says little
_NAMES = {"Anonymous": "function", "Select": "subquery", "Subquery": "subquery", "Star": "*"}


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> Node:
    """The tree of ``text``; ExpressionError says what is not allowed, and where."""
    if not text.strip():
        raise ExpressionError("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"an expression has at most {MAX_LENGTH} characters")
    try:
        tree = sqlglot.parse(text, read="duckdb")
    except Exception as exc:
        raise ExpressionError(f"cannot parse {text[:80]!r}: {_first_line(exc)}") from None
    if len(tree) != 1 or tree[0] is None:
        raise ExpressionError("write one expression (no ';')")
    expression = tree[0]
    if sum(1 for _ in expression.walk()) > MAX_NODES:
        raise ExpressionError(f"an expression has at most {MAX_NODES} parts")
    node = _node(expression)
    _check_nulls(node, allowed=False)
    return node


def _is_null(node: Node) -> bool:
    return isinstance(node, Lit) and node.value is None


def _check_nulls(node: Node, allowed: bool) -> None:
    """``null`` stands only where a value of a case or of coalesce may be missing, beside a
    value that is not null: anywhere else it has no type to compute with."""
    match node:
        case Lit(None) if not allowed:
            raise ExpressionError(
                "null stands only as a value of case or coalesce; write is null to test for it"
            )
        case Coalesce() | Case() if _all_null(node):
            name = "coalesce" if isinstance(node, Coalesce) else "a case"
            raise ExpressionError(f"{name} needs a value that is not null")
        case Coalesce(args):
            for a in args:
                _check_nulls(a, allowed=True)
        case Case(whens, default):
            for condition, value in whens:
                _check_nulls(condition, allowed=False)
                _check_nulls(value, allowed=True)
            if default is not None:
                _check_nulls(default, allowed=True)
        case Binary(_, left, right):
            _check_nulls(left, allowed=False)
            _check_nulls(right, allowed=False)
        case Not(operand) | IsNull(operand):
            _check_nulls(operand, allowed=False)
        case InList(operand, _):
            _check_nulls(operand, allowed=False)
        case Between(operand, low, high):
            for part in (operand, low, high):
                _check_nulls(part, allowed=False)


def _all_null(node: Coalesce | Case) -> bool:
    if isinstance(node, Coalesce):
        return all(_is_null(a) for a in node.args)
    values = [v for _, v in node.whens] + ([node.default] if node.default is not None else [])
    return all(_is_null(v) for v in values)


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _node(e: sge.Expr) -> Node:
    while isinstance(e, sge.Paren):
        e = e.this
    op = _BINARY.get(type(e))
    if op is not None:
        return Binary(op, _node(e.this), _node(e.expression))
    if isinstance(e, sge.Column):
        if e.args.get("db") or e.args.get("catalog"):
            raise ExpressionError(f"{e.sql()}: name a column as COLUMN or TABLE.COLUMN")
        return Col(e.table or None, e.name)
    if isinstance(e, sge.Literal):
        return Lit(e.this if e.is_string else _number(e.this))
    if isinstance(e, sge.Boolean):
        return Lit(bool(e.this))
    if isinstance(e, sge.Null):
        return Lit(None)
    if isinstance(e, sge.Neg):
        inner = _node(e.this)
        number = isinstance(inner, Lit) and isinstance(inner.value, int | Decimal | float)
        if number and isinstance(inner, Lit) and not isinstance(inner.value, bool):
            return Lit(-inner.value)  # type: ignore[operator]
        return Binary("-", Lit(0), inner)
    if isinstance(e, sge.Not):
        inner_e = e.this
        while isinstance(inner_e, sge.Paren):
            inner_e = inner_e.this
        if isinstance(inner_e, sge.Is):
            return IsNull(_is_null_operand(inner_e), negated=True)
        if isinstance(inner_e, sge.In):
            found = _node(inner_e)
            assert isinstance(found, InList)
            return InList(found.operand, found.values, negated=True)
        return Not(_node(inner_e))
    if isinstance(e, sge.Is):
        return IsNull(_is_null_operand(e))
    if isinstance(e, sge.In):
        if e.args.get("query") or e.args.get("field") or e.args.get("unnest"):
            raise ExpressionError("in takes a list of values: x in (1, 2)")
        values = tuple(_node(v) for v in e.expressions)
        if not values or not all(isinstance(v, Lit) and v.value is not None for v in values):
            raise ExpressionError("in takes a list of values (numbers or strings): x in (1, 2)")
        return InList(_node(e.this), values)
    if isinstance(e, sge.Between):
        return Between(_node(e.this), _node(e.args["low"]), _node(e.args["high"]))
    if isinstance(e, sge.Coalesce):
        args = (e.this, *e.expressions)
        if len(args) < 2:
            raise ExpressionError("coalesce takes two values or more")
        return Coalesce(tuple(_node(a) for a in args))
    if isinstance(e, sge.Case):
        if e.this is not None:
            raise ExpressionError("write case when CONDITION then … (not case VALUE when …)")
        whens = tuple((_node(w.this), _node(w.args["true"])) for w in e.args.get("ifs") or ())
        default = e.args.get("default")
        return Case(whens, _node(default) if default is not None else None)
    if isinstance(e, sge.Cast) and isinstance(e.this, sge.Literal) and e.this.is_string:
        read = _TEMPORAL_LITERALS.get(e.to.this)
        if read is not None:
            try:
                return Lit(read(e.this.this))
            except ValueError:
                raise ExpressionError(f"{e.sql()}: not a date or timestamp") from None
    if isinstance(e, sge.AggFunc):
        raise ExpressionError(
            f"{e.sql()[:80]}: no aggregation inside an expression; the aggregation's "
            "function applies to the whole expression"
        )
    name = type(e).__name__
    raise ExpressionError(
        f"{e.sql()[:80]}: {_NAMES.get(name, name.lower())} is not allowed here; use columns, "
        "numbers, strings, + - * /, comparisons, and/or/not, is null, in, between, "
        "coalesce and case when"
    )


def _is_null_operand(e: sge.Is) -> Node:
    if not isinstance(e.expression, sge.Null):
        raise ExpressionError(f"{e.sql()}: only 'is null' and 'is not null' are allowed")
    return _node(e.this)


def _number(text: str) -> int | Decimal | float:
    if any(c in text for c in "eE"):
        number = float(text)
        if not math.isfinite(number):
            raise ExpressionError(f"{text}: too large a number")
        return number
    if "." in text:
        exact = Decimal(text)
        if len(exact.as_tuple().digits) > 38:
            raise ExpressionError(f"{text}: a decimal has at most 38 digits")
        return exact
    whole = int(text)
    if abs(whole) >= 2**63:
        raise ExpressionError(f"{text}: beyond 64-bit integers; write it with an exponent (1e30)")
    return whole


# -- kinds ----------------------------------------------------------------------------------------


def _literal_kind(value: Value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | Decimal | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "temporal"


def kind_of_expression(node: Node, column_kind: Callable[[Col], str | None]) -> str | None:
    """The kind of value ``node`` gives (number, string, temporal, boolean; None: null or
    not known), or ExpressionError when its parts do not fit together. ``column_kind`` gives
    a column's kind (None when not known, e.g. offline)."""

    def kind(n: Node) -> str | None:
        match n:
            case Col():
                return column_kind(n)
            case Lit(value):
                return _literal_kind(value)
            case Binary(op, left, right) if op in ARITHMETIC:
                for side in (left, right):
                    expect(side, "number", f"{op} takes numbers")
                return "number"
            case Binary(op, left, right) if op in COMPARISONS:
                if (isinstance(left, Lit) and left.value is None) or (
                    isinstance(right, Lit) and right.value is None
                ):
                    raise ExpressionError(f"{op} null is never true: write is null")
                same(left, right, f"{op} compares values of one kind")
                return "boolean"
            case Binary(op, left, right):
                for side in (left, right):
                    expect(side, "boolean", f"{op} takes conditions")
                return "boolean"
            case Not(operand):
                expect(operand, "boolean", "not takes a condition")
                return "boolean"
            case IsNull(operand):
                kind(operand)
                return "boolean"
            case InList(operand, values):
                for v in values:
                    same(operand, v, "in compares values of one kind")
                return "boolean"
            case Between(operand, low, high):
                same(operand, low, "between compares values of one kind")
                same(operand, high, "between compares values of one kind")
                return "boolean"
            case Coalesce(args):
                return common(args, "coalesce takes values of one kind")
            case Case(whens, default):
                for condition, _ in whens:
                    expect(condition, "boolean", "case when takes conditions")
                values = tuple(v for _, v in whens) + ((default,) if default else ())
                return common(values, "the values of a case are of one kind")
        raise ExpressionError(f"unexpected {n!r}")  # pragma: no cover - Node is closed

    def expect(n: Node, wanted: str, message: str) -> None:
        found = kind(n)
        if found is not None and found != wanted:
            raise ExpressionError(f"{message}; {_show(n)} is {found}")

    def same(a: Node, b: Node, message: str) -> None:
        ka, kb = kind(a), kind(b)
        if ka is not None and kb is not None and ka != kb:
            raise ExpressionError(f"{message}; {_show(a)} is {ka}, {_show(b)} is {kb}")

    def common(nodes: tuple[Node, ...], message: str) -> str | None:
        kinds = {k for n in nodes if (k := kind(n)) is not None}
        if len(kinds) > 1:
            raise ExpressionError(f"{message}, not {' and '.join(sorted(kinds))}")
        return next(iter(kinds), None)

    return kind(node)


def _show(node: Node) -> str:
    if isinstance(node, Col):
        return str(node)
    if isinstance(node, Lit):
        return repr(node.value) if not isinstance(node.value, Decimal) else str(node.value)
    return "the expression"


def columns_of(node: Node) -> Iterator[Col]:
    """Every column ``node`` reads, in order, with repeats."""
    match node:
        case Col():
            yield node
        case Lit():
            pass
        case Binary(_, left, right):
            yield from columns_of(left)
            yield from columns_of(right)
        case Not(operand) | IsNull(operand):
            yield from columns_of(operand)
        case InList(operand, values):
            yield from columns_of(operand)
            for v in values:
                yield from columns_of(v)
        case Between(operand, low, high):
            for n in (operand, low, high):
                yield from columns_of(n)
        case Coalesce(args):
            for n in args:
                yield from columns_of(n)
        case Case(whens, default):
            for condition, value in whens:
                yield from columns_of(condition)
                yield from columns_of(value)
            if default is not None:
                yield from columns_of(default)


def nearest_chains(
    start: str,
    target: str,
    keys_of: Callable[[str], list[tuple[str, str]]],
    depth: int,
) -> list[tuple[str, ...]]:
    """The shortest chains of foreign keys (their names) from table ``start`` to table
    ``target``, at most ``depth`` keys long, never through a table twice; ``keys_of(t)`` gives
    t's keys as (key, table it points to). Several chains of the shortest length are an
    ambiguity the caller reports; none, an unreachable table."""
    level: list[tuple[tuple[str, ...], tuple[str, ...]]] = [((), (start,))]
    for _ in range(depth):
        found: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
        following: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
        for keys, tables in level:
            for key, reached in keys_of(tables[-1]):
                if reached in tables:
                    continue
                chain = ((*keys, key), (*tables, reached))
                (found if reached == target else following).append(chain)
        if found:
            return [keys for keys, _ in found]
        level = following
    return []
