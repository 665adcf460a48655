"""Soundness on Spark: a representative share of the DuckDB suite's query shapes, answered by
Sextant serving the demo shop from Parquet files through Spark and by the same question's hand
SQL run directly in the same SparkSession.

The hand SQL is each case's DuckDB SQL translated by :func:`to_spark` (sqlglot, every identifier
quoted, with the node fixes below); every case translates faithfully so far.
``test_hand_sql_agrees_across_engines`` checks the translation itself against DuckDB on
identical data. ``SEXTANT_SPARK_CASES=all`` runs every case instead of the share.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import os
from collections.abc import Iterator
from typing import Any

import duckdb
import ibis.backends.sql.dialects  # noqa: F401  (before any sqlglot SQL: see harness.to_postgres)
import pytest
import sqlglot
from sqlglot import exp

from sextant.service import Sextant
from tests.agent_client import AgentClient
from tests.soundness import expressions, metric_kinds, test_duckdb
from tests.soundness.harness import (
    Case,
    HandResult,
    agree,
    check,
    hand,
    normalize,
    sunday_client,
    variant_client,
)

# PySpark leaves the local socket of each collected result to the garbage collector ("The
# socket will be automatically closed when garbage-collected", pyspark/util.py).
SPARK_SOCKETS = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")
pytestmark = [pytest.mark.spark, SPARK_SOCKETS]

# -- DuckDB hand SQL as Spark runs it ----------------------------------------------------------


def _spark_node(node: exp.Expr) -> exp.Expr:
    """One DuckDB function as Spark spells it, where sqlglot's translation is not right."""
    if isinstance(node, exp.DayOfWeekIso):  # sqlglot writes (dayofweek(x) % 7) + 1: not ISO
        weekday = exp.Anonymous(this="WEEKDAY", expressions=[node.this])  # 0 = Monday
        return exp.Paren(this=exp.Add(this=weekday, expression=exp.Literal.number(1)))
    return node


def to_spark(duck_sql: str) -> str:
    tree = sqlglot.parse_one(duck_sql, read="duckdb").transform(_spark_node)
    return tree.sql(dialect="spark", identify=True)


_SPARK_FAMILIES: dict[str, set[str]] = {
    "tinyint": {"type/Integer", "type/BigInteger"},
    "smallint": {"type/Integer", "type/BigInteger"},
    "int": {"type/Integer", "type/BigInteger"},
    "bigint": {"type/Integer", "type/BigInteger"},
    "float": {"type/Float"},
    "double": {"type/Float"},
    "string": {"type/Text"},
    "date": {"type/Date"},
    "timestamp": {"type/DateTime"},
    "timestamp_ntz": {"type/DateTime"},
    "boolean": {"type/Boolean"},
}


def _value(value: Any) -> Any:
    """A Spark value as the API serializes it (timestamps are UTC, the session's zone)."""
    if isinstance(value, _dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(_dt.UTC).replace(tzinfo=None)
    if isinstance(value, decimal.Decimal) and value == value.to_integral_value():
        return int(value)
    return normalize(value)


class SparkWarehouse:
    """Hand SQL in the SparkSession the service reads through."""

    engine = "spark"

    def __init__(self, session: Any) -> None:
        self.session = session

    def run(self, sql: str) -> HandResult:
        frame = self.session.sql(sql)
        fields = frame.schema.fields
        rows = [[_value(v) for v in row] for row in frame.collect()]
        return HandResult(
            [f.name for f in fields], [f.dataType.simpleString() for f in fields], rows
        )

    def hand(self, case: Case) -> HandResult:
        return self.run(to_spark(case.sql))

    def family(self, type_name: str) -> set[str]:
        if type_name.startswith("decimal"):
            return {"type/Decimal", "type/Float", "type/BigInteger", "type/Integer"}
        return _SPARK_FAMILIES.get(type_name, {"type/*"})


# -- the share of the DuckDB cases run here ----------------------------------------------------

SHARE = {
    # filters of each kind
    "is-null-number", "string-is-empty", "equals-string-multiple", "not-equals-string-single",
    "not-equals-number-keeps-null", "equals-float", "equals-datetime-single",
    "equals-date-value-on-datetime", "not-equals-date-value-on-datetime", "greater-than-number",
    "less-than-or-equal-date-value-on-datetime", "less-than-date-and-greater-than-or-equal-date",
    "string-contains", "string-not-contains-multiple", "string-starts-with", "string-ends-with",
    "string-contains-like-wildcard-is-literal", "string-contains-percent-is-literal",
    "year-equals", "quarter-not-equals-multiple", "day-of-week-equals-multiple", "hour-equals",
    "second-not-equals", "bucket-week-greater-than", "bucket-day-of-week-equals",
    "bucket-week-of-year-equals", "bucket-minute-of-hour-and-second-of-minute",
    # segments, aggregations, measures, order
    "segment-large-orders", "segment-with-filter", "count-field-skips-null", "count-distinct",
    "sum-avg-min-max", "avg-integer-and-sum-avg-null-column", "min-max-datetime-and-string",
    "repeated-aggregations-suffixed", "measures", "measure-sort-desc",
    "sort-order-desc-with-limit",
    # breakouts with temporal granularities
    "group-minute-capped", "group-hour", "group-week", "group-month", "group-quarter",
    "group-day-of-week", "group-date-column-week-stays-date", "group-date-column-day-of-week",
    "group-no-granularity-datetime", "group-same-column-two-granularities",
    # raw rows, order and limits, truncation
    "raw-default-columns-people-no-password", "raw-fields-order-by-desc-limit",
    "raw-order-by-field-not-shown", "raw-capped-at-2000", "raw-repeated-field",
    # related tables
    "join-filter-people", "join-group-by-product-category", "join-fields-from-both-relations",
    "join-same-name-columns", "join-count-distinct-related", "join-reviews-products-raw",
    # metrics
    "metric-total-revenue-by-month-filtered", "metric-order-count-by-related",
    "metric-bulk-revenue-own-filter", "metric-gross-sales-finance",
    "metric-day-of-week-and-bucket-filter",
    # sandboxes and other users
    "sandbox-revenue-by-state", "sandbox-orders-raw-limit", "sandbox-orders-by-product-category",
    "sandbox-people-default-columns", "sandbox-without-attribute-sees-no-orders",
}  # fmt: skip

_ALL = os.environ.get("SEXTANT_SPARK_CASES", "") == "all"
CASES: list[Case] = [c for c in test_duckdb.CASES if _ALL or c.id in SHARE]


def test_share_names_existing_cases() -> None:
    known = {c.id for c in test_duckdb.CASES}
    assert not SHARE - known, SHARE - known


@pytest.fixture(scope="module")
def api(spark_service: Sextant) -> AgentClient:
    return AgentClient(spark_service)


@pytest.fixture(scope="module")
def spark(spark_service: Sextant) -> SparkWarehouse:
    with spark_service.warehouses.connection("Sample Shop") as backend:
        return SparkWarehouse(backend._session)


@pytest.mark.parametrize("case", [c.param("spark") for c in CASES])
def test_matches_hand_sql(api: AgentClient, spark: SparkWarehouse, case: Case) -> None:
    check(api, spark, case)


# -- the translated hand SQL means what the DuckDB hand SQL means -----------------------------


@pytest.mark.parametrize("case", [c.param("spark") for c in CASES])
def test_hand_sql_agrees_across_engines(
    spark: SparkWarehouse, duck_shop: duckdb.DuckDBPyConnection, case: Case
) -> None:
    agree(spark.hand(case), hand(duck_shop, case.sql))


@pytest.fixture(scope="module")
def sunday(
    spark_service: Sextant, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AgentClient]:
    with sunday_client(spark_service, tmp_path_factory.mktemp("sunday-spark")) as client:
        yield client


@pytest.mark.parametrize("case", [c.param("spark") for c in test_duckdb.SUNDAY_CASES])
def test_weeks_starting_sunday_match_hand_sql(
    sunday: AgentClient, spark: SparkWarehouse, duck_shop: duckdb.DuckDBPyConnection, case: Case
) -> None:
    check(sunday, spark, case)
    agree(spark.hand(case), hand(duck_shop, case.sql))


# -- ratio, derived and cumulative metrics (tests/soundness/metric_kinds.py) -----------------
# the share: each metric at every granularity it accepts, and every variant by month


def _kinds_share(case: Case) -> bool:
    return _ALL or "-month" in case.id or not ("-filtered" in case.id or "-by-category" in case.id)


KIND_CASES = [c for c in metric_kinds.CASES if _kinds_share(c)]


@pytest.fixture(scope="module")
def spark_kinds(
    spark_service: Sextant, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AgentClient]:
    data_dir = tmp_path_factory.mktemp("kinds-spark")
    with variant_client(spark_service, data_dir, expressions.with_expressions) as kinds:
        yield kinds


# expressions in measures, metrics and segments (tests/soundness/expressions.py): every case
@pytest.mark.parametrize("case", [c.param("spark") for c in expressions.CASES])
def test_expressions_match_hand_sql(
    spark_kinds: AgentClient, spark: SparkWarehouse, case: Case
) -> None:
    check(spark_kinds, spark, case)


@pytest.mark.parametrize("case", [c.param("spark") for c in KIND_CASES])
def test_metric_kinds_match_hand_sql(
    spark_kinds: AgentClient, spark: SparkWarehouse, case: Case
) -> None:
    check(spark_kinds, spark, case)


@pytest.mark.parametrize("case", [c.param("spark") for c in KIND_CASES])
def test_metric_kind_hand_sql_agrees_across_engines(
    spark: SparkWarehouse, duck_shop: duckdb.DuckDBPyConnection, case: Case
) -> None:
    agree(spark.hand(case), hand(duck_shop, case.sql))
