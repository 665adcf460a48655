"""Hand SQL on MySQL/MariaDB and SQLite: the DuckDB hand SQL translated, and where it runs.

The cases' hand SQL is written once, for DuckDB. sqlglot translates most of it; what it leaves
as DuckDB functions (date parts, date_trunc, contains, ends_with) is rewritten here into each
engine's own spelling (``_mysql_node``, ``_sqlite_node``), and the ``agrees_across_engines``
tests check every translation against the DuckDB hand SQL on identical data.
"""

from __future__ import annotations

import datetime as _dt
import re
import sqlite3
from collections.abc import Callable
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from sextant.demo.shop import TABLE_ROWS
from tests.soundness.harness import Case, HandResult, normalize, whole_or_float

# -- translation -------------------------------------------------------------------------------


def _fragment(template: str, dialect: str, **parts: exp.Expr) -> exp.Expr:
    """``template`` (in ``dialect``) with each ``{name}`` replaced by a translated node (its own
    DuckDB-only functions rewritten first)."""
    rewrite = _NODE_REWRITES[dialect]
    rendered = {
        k: v.copy().transform(rewrite).sql(dialect=dialect, identify=True) for k, v in parts.items()
    }
    return sqlglot.parse_one(template.format(**rendered), read=dialect)


def _unit(node: exp.Expr) -> str:
    unit = node.args.get("unit")
    return str(unit.name if isinstance(unit, exp.Expr) else unit).upper()


_MYSQL_PARTS: dict[type[exp.Expr], str] = {
    exp.Year: "YEAR({x})",
    exp.Quarter: "QUARTER({x})",
    exp.Month: "MONTH({x})",
    exp.Day: "DAYOFMONTH({x})",
    exp.Hour: "HOUR({x})",
    exp.Minute: "MINUTE({x})",
    exp.Second: "SECOND({x})",
    exp.DayOfWeekIso: "(WEEKDAY({x}) + 1)",
    exp.WeekOfYear: "WEEK({x}, 3)",
    exp.DayOfYear: "DAYOFYEAR({x})",
}

_MYSQL_TRUNC: dict[str, str] = {
    "YEAR": "CAST(DATE_FORMAT({x}, '%Y-01-01') AS DATETIME)",
    "QUARTER": ("CAST(MAKEDATE(YEAR({x}), 1) + INTERVAL (QUARTER({x}) - 1) QUARTER AS DATETIME)"),
    "MONTH": "CAST(DATE_FORMAT({x}, '%Y-%m-01') AS DATETIME)",
    "WEEK": "CAST(DATE_SUB(CAST({x} AS DATE), INTERVAL WEEKDAY({x}) DAY) AS DATETIME)",
    "DAY": "CAST(CAST({x} AS DATE) AS DATETIME)",
    "HOUR": "CAST(DATE_FORMAT({x}, '%Y-%m-%d %H:00:00') AS DATETIME)",
    "MINUTE": "CAST(DATE_FORMAT({x}, '%Y-%m-%d %H:%i:00') AS DATETIME)",
}


def _mysql_node(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Avg):  # over doubles, like DuckDB (not a 4-place DECIMAL)
        return exp.Avg(this=exp.cast(node.this, "DOUBLE"))
    template = _MYSQL_PARTS.get(type(node))
    if template is not None:
        return _fragment(template, "mysql", x=node.this)
    if isinstance(node, exp.TimestampTrunc | exp.DateTrunc):
        return _fragment(_MYSQL_TRUNC[_unit(node)], "mysql", x=node.this)
    if isinstance(node, exp.Contains):
        return _fragment("LOCATE({s}, {x}) > 0", "mysql", x=node.this, s=node.expression)
    if isinstance(node, exp.EndsWith):
        template = "RIGHT({x}, CHAR_LENGTH({s})) = {s}"
        return _fragment(template, "mysql", x=node.this, s=node.expression)
    return node


_SQLITE_PARTS: dict[type[exp.Expr], str] = {
    exp.Year: "CAST(STRFTIME('%Y', {x}) AS INTEGER)",
    exp.Quarter: "((CAST(STRFTIME('%m', {x}) AS INTEGER) + 2) / 3)",
    exp.Month: "CAST(STRFTIME('%m', {x}) AS INTEGER)",
    exp.Day: "CAST(STRFTIME('%d', {x}) AS INTEGER)",
    exp.Hour: "CAST(STRFTIME('%H', {x}) AS INTEGER)",
    exp.Minute: "CAST(STRFTIME('%M', {x}) AS INTEGER)",
    exp.Second: "CAST(STRFTIME('%S', {x}) AS INTEGER)",
    exp.DayOfWeekIso: "((CAST(STRFTIME('%w', {x}) AS INTEGER) + 6) % 7 + 1)",
    # the ISO week is the week of the year of that week's Thursday
    exp.WeekOfYear: (
        "((CAST(STRFTIME('%j', DATE({x}, '-3 days', 'weekday 4')) AS INTEGER) - 1) / 7 + 1)"
    ),
    exp.DayOfYear: "CAST(STRFTIME('%j', {x}) AS INTEGER)",
}

_SQLITE_TRUNC: dict[str, str] = {
    "YEAR": "DATETIME({x}, 'start of year')",
    "QUARTER": (
        "DATETIME({x}, 'start of month', "
        "'-' || ((CAST(STRFTIME('%m', {x}) AS INTEGER) - 1) % 3) || ' months')"
    ),
    "MONTH": "DATETIME({x}, 'start of month')",
    "WEEK": (
        "DATETIME({x}, 'start of day', "
        "'-' || ((CAST(STRFTIME('%w', {x}) AS INTEGER) + 6) % 7) || ' days')"
    ),
    "DAY": "DATETIME({x}, 'start of day')",
    "HOUR": "STRFTIME('%Y-%m-%d %H:00:00', {x})",
    "MINUTE": "STRFTIME('%Y-%m-%d %H:%M:00', {x})",
}


def _sqlite_node(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Add | exp.Sub) and isinstance(node.expression, exp.Interval):
        # x + INTERVAL 1 DAY: SQLite shifts with a modifier
        interval = node.expression
        sign = "+" if isinstance(node, exp.Add) else "-"
        shift = f"'{sign}{interval.this.name} {interval.unit.name.lower()}s'"
        return _fragment("DATETIME({x}, " + shift + ")", "sqlite", x=node.this)
    template = _SQLITE_PARTS.get(type(node))
    if template is not None:
        return _fragment(template, "sqlite", x=node.this)
    if isinstance(node, exp.TimestampTrunc | exp.DateTrunc):
        return _fragment(_SQLITE_TRUNC[_unit(node)], "sqlite", x=node.this)
    if isinstance(node, exp.Contains):
        return _fragment("INSTR({x}, {s}) > 0", "sqlite", x=node.this, s=node.expression)
    if isinstance(node, exp.EndsWith):
        template = "SUBSTR({x}, -LENGTH({s})) = {s}"
        return _fragment(template, "sqlite", x=node.this, s=node.expression)
    if isinstance(node, exp.Cast) and node.to.is_type(*exp.DataType.TEMPORAL_TYPES):
        # SQLite keeps dates and timestamps as ISO text; a cast to an unknown type would
        # make the text a number
        if node.to.is_type(exp.DType.DATE):
            return _fragment("DATE({x})", "sqlite", x=node.this)
        return _fragment("DATETIME({x})", "sqlite", x=node.this)
    return node


_NODE_REWRITES: dict[str, Callable[[exp.Expr], exp.Expr]] = {
    "mysql": _mysql_node,
    "sqlite": _sqlite_node,
}


def to_mysql(duck_sql: str) -> str:
    tree = sqlglot.parse_one(duck_sql, read="duckdb").transform(_mysql_node)
    return tree.sql(dialect="mysql", identify=True)


def to_sqlite(duck_sql: str) -> str:
    tree = sqlglot.parse_one(duck_sql, read="duckdb").transform(_sqlite_node)
    return tree.sql(dialect="sqlite", identify=True)


# -- warehouses --------------------------------------------------------------------------------

_INTEGERS = {"type/Integer", "type/BigInteger"}


class MySQLWarehouse:
    """A mysqlclient connection (autocommit) to the database the service reads."""

    engine = "mysql"

    # mysqlclient's FIELD_TYPE codes
    _FAMILIES: dict[int, set[str]] = {
        1: _INTEGERS,  # TINY
        2: _INTEGERS,  # SHORT
        3: _INTEGERS,  # LONG
        8: _INTEGERS,  # LONGLONG
        9: _INTEGERS,  # INT24
        # sum(integer) and avg(integer) are DECIMAL: an integer or a fraction
        0: {"type/Decimal", "type/Float", *_INTEGERS},
        246: {"type/Decimal", "type/Float", *_INTEGERS},
        4: {"type/Float"},
        5: {"type/Float"},
        253: {"type/Text"},
        254: {"type/Text"},
        252: {"type/Text"},
        15: {"type/Text"},
        10: {"type/Date"},
        12: {"type/DateTime"},
        7: {"type/DateTime"},
    }

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def run(self, sql: str) -> HandResult:
        with self.conn.cursor() as cur:
            cur.execute(sql)  # no parameters: '%' in LIKE patterns is literal
            description = cur.description or []
            rows = [[whole_or_float(v) for v in row] for row in cur.fetchall()]
        return HandResult([d[0] for d in description], [str(d[1]) for d in description], rows)

    def hand(self, case: Case) -> HandResult:
        return self.run(to_mysql(case.sql))

    def family(self, type_name: str) -> set[str]:
        return self._FAMILIES.get(int(type_name), {"type/*"})


_ISO_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2}(\.\d+)?)?$")


def _sqlite_family(values: list[Any]) -> str:
    """SQLite's result columns have no types: name the family its values show."""
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {int}:
        return "integer" if kinds else "null"
    if kinds <= {int, float}:
        return "real"
    if all(isinstance(v, str) and _ISO_TEXT.match(v) for v in values if v is not None):
        return "temporal"
    return "text"


_SQLITE_FAMILIES: dict[str, set[str]] = {
    "integer": _INTEGERS,
    "real": {"type/Float", "type/Decimal", *_INTEGERS},  # avg of whole numbers looks whole
    "temporal": {"type/Date", "type/DateTime", "type/Text"},
    "text": {"type/Text"},
}


def sqlite_canonical(value: Any) -> Any:
    """Dates and timestamps as one text: SQLite's ``2024-01-05 00:00:00`` and the API's
    ``2024-01-05T00:00:00`` (or ``2024-01-05`` for a date) name the same instant."""
    if isinstance(value, str) and value.endswith("Z"):
        value = value[:-1]  # the API's UTC datetimes carry their offset
    if isinstance(value, str) and _ISO_TEXT.match(value.replace("T", " ", 1)):
        text = value.replace("T", " ", 1)
        return text if " " in text else text + " 00:00:00"
    if isinstance(value, _dt.date):
        return sqlite_canonical(value.isoformat())
    return value


class SQLiteWarehouse:
    """A read-only sqlite3 connection to the file the service reads."""

    engine = "sqlite"
    canonical: Callable[[Any], Any] = staticmethod(sqlite_canonical)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def run(self, sql: str) -> HandResult:
        cur = self.conn.execute(sql)
        try:
            description = cur.description or []
            rows = [[normalize(v) for v in row] for row in cur.fetchall()]
        finally:
            cur.close()
        types = [_sqlite_family([row[i] for row in rows]) for i in range(len(description))]
        return HandResult([d[0] for d in description], types, rows)

    def hand(self, case: Case) -> HandResult:
        return self.run(to_sqlite(case.sql))

    def family(self, type_name: str) -> set[str]:
        if type_name == "null":
            return {"type/*", "type/Integer", "type/BigInteger", "type/Float", "type/Decimal",
                    "type/Text", "type/Date", "type/DateTime"}  # fmt: skip
        return _SQLITE_FAMILIES[type_name]


def edge_tables(edges: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The edited DuckDB shop's tables (Arrow), to load into another engine."""
    return {name: edges.table(name).fetch_arrow_table() for name in TABLE_ROWS}
