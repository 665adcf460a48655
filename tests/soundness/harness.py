"""Soundness harness: run an Agent API query and the same question as hand SQL, compare.

Queries are written with a tiny placeholder language (``F("TOTAL")``, ``F("STATE", via="USER_ID")``,
``Seg("Large Orders")``, ``Measure("Sum of Total")``) that is resolved to positional field ids
through the entity details the *calling* user gets, never through hard-coded indexes.

Hand SQL is written once, for DuckDB. On PostgreSQL it runs translated by :func:`to_postgres`
(sqlglot, every identifier quoted, DuckDB's date-part and string functions spelt the PostgreSQL
way), unless a case carries its own ``postgres`` SQL.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import duckdb
import ibis.backends.sql.dialects  # noqa: F401  (before any sqlglot SQL: see to_postgres)
import pytest
import sqlglot
from sqlglot import exp

from sextant.service import Sextant
from tests.agent_client import AgentClient

ADMIN = "admin@example.com"
ANALYST = "analyst@example.com"
FINANCE = "finance@example.com"
CA_MANAGER = "ca-manager@example.com"
NOSTATE = "nostate@example.com"

_UNSET: Any = object()

# -- placeholders ------------------------------------------------------------------------------


@dataclass(frozen=True)
class F:
    """A column of the queried entity's column list (``via`` = FK column of the base table;
    for a chain, the keys followed, dot-separated as in ``related_by``)."""

    column: str
    via: str | None = None


@dataclass(frozen=True)
class Seg:
    name: str


@dataclass(frozen=True)
class Measure:
    name: str


def flt(
    column: str,
    operation: str,
    value: Any = _UNSET,
    *,
    values: list[Any] | None = None,
    bucket: str | None = None,
    via: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"field_id": F(column, via), "operation": operation}
    if value is not _UNSET:
        out["value"] = value
    if values is not None:
        out["values"] = values
    if bucket is not None:
        out["bucket"] = bucket
    return out


def seg(name: str) -> dict[str, Any]:
    return {"segment_id": Seg(name)}


def agg(
    function: str,
    column: str | None = None,
    *,
    via: str | None = None,
    sort: str | None = None,
    bucket: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"function": function}
    if column is not None:
        out["field_id"] = F(column, via)
    if sort is not None:
        out["sort_order"] = sort
    if bucket is not None:
        out["bucket"] = bucket
    return out


def measure(name: str, *, sort: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"measure_id": Measure(name)}
    if sort is not None:
        out["sort_order"] = sort
    return out


def gb(column: str, granularity: str | None = None, *, via: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"field_id": F(column, via)}
    if granularity is not None:
        out["field_granularity"] = granularity
    return out


def ob(
    column: str, direction: str = "asc", *, via: str | None = None, bucket: str | None = None
) -> dict[str, Any]:
    return {"field": fld(column, via=via, bucket=bucket), "direction": direction}


def fld(column: str, *, via: str | None = None, bucket: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"field_id": F(column, via)}
    if bucket is not None:
        out["bucket"] = bucket
    return out


def fields(*columns: str) -> list[dict[str, Any]]:
    return [fld(c) for c in columns]


@dataclass(frozen=True)
class Query:
    """A table query (``kind='table'``) or metric query, with placeholders in ``parts``."""

    kind: str
    entity: str
    parts: dict[str, Any]

    def build(self, ids: Ids) -> dict[str, Any]:
        if self.kind == "table":
            head: dict[str, Any] = {"table_id": ids.table(self.entity)}
            table = self.entity
        else:
            head = {"metric_id": ids.metric(self.entity)}
            table = ids.metric_table(self.entity)
        return head | ids.resolve(self.parts, table, self.kind, self.entity)

    @property
    def aggregated(self) -> bool:
        return self.kind == "metric" or bool(
            self.parts.get("aggregations") or self.parts.get("group_by")
        )


def table(name: str, **parts: Any) -> Query:
    return Query("table", name, parts)


def metric(name: str, **parts: Any) -> Query:
    return Query("metric", name, parts)


# -- ids through the details endpoints ---------------------------------------------------------


class Ids:
    """Positional ids for one caller, learnt from GET /table/{id} and /metric/{id}."""

    def __init__(self, api: AgentClient, email: str) -> None:
        self.api = api
        self.email = email
        self._tables: dict[str, dict[str, Any]] = {}
        self._metrics: dict[str, dict[str, Any]] = {}

    def table(self, name: str) -> int:
        return self.api.table_id(name)

    def metric(self, name: str) -> int:
        return self.api.metric_id(name)

    def details(self, name: str) -> dict[str, Any]:
        if name not in self._tables:
            params = {"with-segments": "true", "with-measures": "true"}
            r = self.api.get(f"/table/{self.table(name)}", self.email, params=params)
            assert r.status_code == 200, r.text
            self._tables[name] = r.json()
        return self._tables[name]

    def metric_details(self, name: str) -> dict[str, Any]:
        if name not in self._metrics:
            r = self.api.get(f"/metric/{self.metric(name)}", self.email)
            assert r.status_code == 200, r.text
            self._metrics[name] = r.json()
        return self._metrics[name]

    def metric_table(self, name: str) -> str:
        snapshot = self.api.service.snapshot()
        row = snapshot.metrics[self.metric(name)]
        return snapshot.tables[row.table_id].name

    def field(self, table: str, column: str, via: str | None = None) -> str:
        d = self.details(table)
        if via is None:
            pool = d["fields"]
        else:
            blocks = [rt for rt in d.get("related_tables", []) if rt["related_by"] == via]
            assert len(blocks) == 1, f"{table} has no single related table through {via}"
            pool = blocks[0]["fields"]
        found = [f["field_id"] for f in pool if f["name"] == column]
        assert len(found) == 1, f"{table}.{column} (via {via}) not found once in {pool}"
        return str(found[0])

    def dimension(self, metric_name: str, column: str, via: str | None = None) -> str:
        """The metric's field id: same list as its table's, checked against the metric details."""
        table_fid = self.field(self.metric_table(metric_name), column, via)
        index = int(table_fid.rsplit("-", 1)[1])
        dims = self.metric_details(metric_name)["queryable_dimensions"]
        dim = dims[index]
        assert dim["name"] == column, (metric_name, column, dim)
        assert dim["field_id"] == f"c{self.metric(metric_name)}-{index}", dim
        return str(dim["field_id"])

    def segment(self, table: str, name: str) -> int:
        return int(next(s["id"] for s in self.details(table)["segments"] if s["name"] == name))

    def measure(self, table: str, name: str) -> int:
        return int(next(m["id"] for m in self.details(table)["measures"] if m["name"] == name))

    def resolve(self, value: Any, table: str, kind: str, entity: str) -> Any:
        if isinstance(value, F):
            if kind == "metric":
                return self.dimension(entity, value.column, value.via)
            return self.field(table, value.column, value.via)
        if isinstance(value, Seg):
            return self.segment(table, value.name)
        if isinstance(value, Measure):
            return self.measure(table, value.name)
        if isinstance(value, dict):
            return {k: self.resolve(v, table, kind, entity) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, table, kind, entity) for v in value]
        return value


# -- running -----------------------------------------------------------------------------------


def run(api: AgentClient, email: str, body: dict[str, Any]) -> dict[str, Any]:
    """Construct then execute ``body`` as ``email``; the completed execute response."""
    constructed = api.request("POST", "/construct-query", email, json=body)
    assert constructed.status_code == 200, (body, constructed.text)
    executed = api.request("POST", "/execute", email, json=constructed.json())
    assert executed.status_code == 202, executed.text
    result: dict[str, Any] = executed.json()
    assert result.get("status") == "completed", (body, result)
    return result


def normalize(value: Any) -> Any:
    """A DuckDB value as the API serializes it: ISO dates and times (datetimes with their
    offset, in UTC: ``Z``), decimals as floats."""
    if isinstance(value, _dt.datetime):
        moment = value if value.tzinfo is None else value.astimezone(_dt.UTC).replace(tzinfo=None)
        return moment.isoformat() + "Z"
    if isinstance(value, _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


@dataclass(frozen=True)
class HandResult:
    names: list[str]
    types: list[str]
    rows: list[list[Any]]


def hand(con: duckdb.DuckDBPyConnection, sql: str) -> HandResult:
    cur = con.cursor()
    try:
        cur.execute(sql)
        description = cur.description or []
        rows = [[normalize(v) for v in row] for row in cur.fetchall()]
    finally:
        cur.close()
    return HandResult([d[0] for d in description], [str(d[1]) for d in description], rows)


_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UBIGINT", "UINTEGER"}


def _family(duck_type: str) -> set[str]:
    if duck_type in _INTEGER_TYPES:
        return {"type/Integer", "type/BigInteger"}
    if duck_type == "DOUBLE" or duck_type == "FLOAT":
        return {"type/Float"}
    if duck_type.startswith("DECIMAL"):
        return {"type/Decimal", "type/Float"}
    if duck_type == "VARCHAR":
        return {"type/Text"}
    if duck_type == "DATE":
        return {"type/Date"}
    if duck_type.startswith("TIMESTAMP"):
        return {"type/DateTime"}
    return {"type/*"}


# -- PostgreSQL --------------------------------------------------------------------------------

# DuckDB date-part functions and the EXTRACT field PostgreSQL has for each (ISO weeks, ISO days).
_PG_PARTS: dict[type[exp.Expr], str] = {
    exp.Year: "YEAR",
    exp.Quarter: "QUARTER",
    exp.Month: "MONTH",
    exp.Day: "DAY",
    exp.Hour: "HOUR",
    exp.Minute: "MINUTE",
    exp.Second: "SECOND",
    exp.DayOfWeekIso: "ISODOW",
    exp.WeekOfYear: "WEEK",
    exp.DayOfYear: "DOY",
}


def _pg_node(node: exp.Expr) -> exp.Expr:
    """One DuckDB-only function as PostgreSQL spells it (sqlglot leaves these untranslated)."""
    part = _PG_PARTS.get(type(node))
    if part is not None:
        # DuckDB's parts are integers; EXTRACT gives numeric (with fractional seconds).
        extracted: exp.Expr = exp.Extract(this=exp.var(part), expression=node.this)
        if part == "SECOND":
            extracted = exp.Floor(this=extracted)
        return exp.cast(extracted, "INT")
    if isinstance(node, exp.Contains):  # contains(s, x): a literal substring test
        found = exp.StrPosition(this=node.this, substr=node.expression)
        return exp.GT(this=found, expression=exp.Literal.number(0))
    if isinstance(node, exp.EndsWith):  # ends_with(s, x), literal: right(s, length(x)) = x
        tail = exp.Right(this=node.this, expression=exp.Length(this=node.expression.copy()))
        return exp.EQ(this=tail, expression=node.expression)
    return node


def to_postgres(duck_sql: str) -> str:
    """``duck_sql`` for PostgreSQL: every identifier quoted (upper-case names stay upper-case).

    Ibis adds its renderings to sqlglot's PostgreSQL generator when its SQL dialects module is
    imported (a date literal is ``MAKE_DATE``), but sqlglot fixes a generator's renderings the
    first time it writes SQL: hence the import above, so that this translation, done first in
    the test process, cannot leave Sextant writing ``DATE_FROM_PARTS`` (see test_postgres.py).
    """
    tree = sqlglot.parse_one(duck_sql, read="duckdb").transform(_pg_node)
    return tree.sql(dialect="postgres", identify=True)


_PG_FAMILIES: dict[str, set[str]] = {
    "int2": {"type/Integer", "type/BigInteger"},
    "int4": {"type/Integer", "type/BigInteger"},
    "int8": {"type/Integer", "type/BigInteger"},
    # sum(bigint) and avg(integer) are numeric: an integer or a fraction, the values tell
    "numeric": {"type/Decimal", "type/Float", "type/BigInteger", "type/Integer"},
    "float4": {"type/Float"},
    "float8": {"type/Float"},
    "text": {"type/Text"},
    "varchar": {"type/Text"},
    "bpchar": {"type/Text"},
    "date": {"type/Date"},
    "timestamp": {"type/DateTime"},
    "timestamptz": {"type/DateTimeWithLocalTZ", "type/DateTime"},
}


def whole_or_float(value: Any) -> Any:
    """A whole decimal (a sum of integers: PostgreSQL's numeric, MySQL's DECIMAL) is an
    integer; other decimals (averages) floats."""
    if isinstance(value, decimal.Decimal) and value.is_finite():
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= 0:
            return int(value)
    return normalize(value)


# -- warehouses --------------------------------------------------------------------------------


class Warehouse(Protocol):
    """Where a case's hand SQL runs, and which base types each of its column types allows."""

    engine: str

    def hand(self, case: Case) -> HandResult: ...

    def family(self, type_name: str) -> set[str]: ...


class DuckDBWarehouse:
    engine = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def hand(self, case: Case) -> HandResult:
        return hand(self.con, case.sql)

    def family(self, type_name: str) -> set[str]:
        return _family(type_name)


class PostgresWarehouse:
    """A psycopg connection (autocommit) to the database the service reads; not closed here."""

    engine = "postgres"

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def run(self, sql: str) -> HandResult:
        with self.conn.cursor() as cur:
            cur.execute(sql)  # no parameters: '%' in LIKE patterns is literal
            description = cur.description or []
            rows = [[whole_or_float(v) for v in row] for row in cur.fetchall()]
        types = []
        for column in description:
            info = self.conn.adapters.types.get(column.type_code)
            types.append(info.name if info is not None else str(column.type_code))
        return HandResult([d.name for d in description], types, rows)

    def hand(self, case: Case) -> HandResult:
        return self.run(case.postgres_sql)

    def family(self, type_name: str) -> set[str]:
        return _PG_FAMILIES.get(type_name, {"type/*"})


def same_value(actual: Any, expected: Any) -> bool:
    if expected is None or isinstance(expected, bool):
        return actual is expected
    if isinstance(expected, int):
        return type(actual) is int and actual == expected
    if isinstance(expected, float):
        if isinstance(actual, bool) or not isinstance(actual, int | float):
            return False
        return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9)
    return bool(actual == expected)


def _sort_key(row: list[Any]) -> tuple[Any, ...]:
    def one(v: Any) -> tuple[int, Any]:
        if v is None:
            return (0, 0)
        if isinstance(v, int | float):
            return (1, v)
        return (2, str(v))

    return tuple(one(v) for v in row)


def assert_rows(actual: list[list[Any]], expected: list[list[Any]], ordered: bool) -> None:
    assert len(actual) == len(expected), f"{len(actual)} rows, hand SQL has {len(expected)}"
    if not ordered:
        actual = sorted(actual, key=_sort_key)
        expected = sorted(expected, key=_sort_key)
    for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
        assert len(a) == len(e), f"row {i}: {a} vs {e}"
        if not all(same_value(x, y) for x, y in zip(a, e, strict=True)):
            pytest.fail(f"row {i} differs: got {a}, hand SQL has {e}")


@dataclass(frozen=True)
class Case:
    """One query shape: the request, the hand SQL that answers it, and who asks."""

    id: str
    query: Query
    sql: str
    email: str = ADMIN
    truncated: int | None = None  # the row cap expected to cut the result, if any
    unordered: bool = False  # the spec leaves the order open (e.g. where NULL groups sort)
    postgres: str | None = None  # PostgreSQL hand SQL, where translating ``sql`` is not right

    @property
    def postgres_sql(self) -> str:
        return self.postgres if self.postgres is not None else to_postgres(self.sql)

    @property
    def ordered(self) -> bool:
        """Raw queries without order_by leave the order open: compare as multisets."""
        if self.unordered:
            return False
        return self.query.aggregated or bool(self.query.parts.get("order_by"))

    def param(self, engine: str = "duckdb") -> Any:
        del engine  # the same cases run on every engine
        return pytest.param(self, id=self.id)


def check(
    api: AgentClient, warehouse: Warehouse | duckdb.DuckDBPyConnection, case: Case
) -> dict[str, Any]:
    """Run ``case`` both ways and compare names, base types, rows and truncation."""
    if isinstance(warehouse, duckdb.DuckDBPyConnection):
        warehouse = DuckDBWarehouse(warehouse)
    body = case.query.build(Ids(api, case.email))
    result = run(api, case.email, body)
    expected = warehouse.hand(case)
    data = result["data"]
    names = [c["name"] for c in data["cols"]]
    assert names == expected.names, f"columns {names}, hand SQL names {expected.names}"
    for col, hand_type in zip(data["cols"], expected.types, strict=True):
        assert col["base_type"] in warehouse.family(hand_type), (col, hand_type)
    assert result["row_count"] == len(data["rows"])
    if case.truncated is None:
        assert not result.get("truncated", False), "unexpected truncation"
    else:
        assert result.get("truncated") is True
        assert result.get("row_limit") == case.truncated
    actual_rows, expected_rows = data["rows"], expected.rows
    canonical = getattr(warehouse, "canonical", None)
    if canonical is not None:  # e.g. SQLite's dates are text: one spelling for both sides
        actual_rows = [[canonical(v) for v in row] for row in actual_rows]
        expected_rows = [[canonical(v) for v in row] for row in expected_rows]
    assert_rows(actual_rows, expected_rows, case.ordered)
    return result


def _loose(rows: list[list[Any]]) -> list[list[Any]]:
    """Integers as floats: avg and sum types differ between the engines, not their values."""
    return [[float(v) if type(v) is int else v for v in row] for row in rows]


def agree(other: HandResult, duck: HandResult) -> None:
    """Another engine's hand SQL result means what the DuckDB hand SQL's means."""
    assert other.names == duck.names
    # as multisets: the engines may collate strings differently (the order is checked against
    # Sextant on each engine)
    assert_rows(_loose(other.rows), _loose(duck.rows), ordered=False)


@contextmanager
def variant_client(
    service: Sextant, data_dir: Path, edit: Callable[[str], str]
) -> Iterator[AgentClient]:
    """A second service over ``service``'s warehouse whose model is ``edit`` of its model (its
    own application database in ``data_dir``; the model copy sits beside the original, so
    relative warehouse paths still resolve)."""
    from tests.conftest import make_settings

    model = service.model_path()
    copy = model.with_name(f"{model.stem}-variant-{data_dir.name}.yaml")
    copy.write_text(edit(model.read_text()))
    variant = Sextant(make_settings(data_dir, config=copy))
    try:
        variant.sync()
        yield AgentClient(variant)
    finally:
        variant.close()
        copy.unlink(missing_ok=True)


def _weeks_from_sunday(model: str) -> str:
    assert "\nsettings:\n" in model
    return model.replace("\nsettings:\n", "\nsettings:\n  start_of_week: sunday\n", 1)


def sunday_client(service: Sextant, data_dir: Path) -> AbstractContextManager[AgentClient]:
    """A second service over ``service``'s warehouse whose model starts weeks on Sunday."""
    return variant_client(service, data_dir, _weeks_from_sunday)
