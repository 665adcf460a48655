"""Fingerprints and introspection of the demo warehouse, checked against hand-written SQL."""

from __future__ import annotations

import math
from typing import Any

import duckdb
import pytest
from sqlalchemy import select

from sextant.demo.setup import DemoFiles
from sextant.service import Sextant
from sextant.store import schema as s
from sextant.store.fingerprints import load_fingerprint
from sextant.warehouse.connection import connect
from sextant.warehouse.fingerprint import ScanCounter, fingerprint_table
from sextant.warehouse.introspect import introspect


def stored(service: Sextant, table: str, column: str) -> tuple[dict[str, Any], list[Any] | None]:
    with service.engine.connect() as conn:
        field_id = conn.execute(
            select(s.fields.c.id)
            .join(s.tables, s.tables.c.id == s.fields.c.table_id)
            .where(s.tables.c.name == table, s.fields.c.name == column)
        ).scalar_one()
    fp = load_fingerprint(service.engine, field_id)
    assert fp is not None, f"{table}.{column} has no fingerprint"
    return fp.statistics, fp.values


def hand(demo: DemoFiles, sql: str) -> tuple[Any, ...]:
    with duckdb.connect(str(demo.warehouse), read_only=True) as con:
        row = con.execute(sql).fetchone()
    assert row is not None
    return tuple(row)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def test_numeric_statistics_match_hand_sql(demo_service: Sextant, demo: DemoFiles) -> None:
    stats, values = stored(demo_service, "ORDERS", "TOTAL")
    expected = hand(
        demo,
        'SELECT count(DISTINCT "TOTAL"), min("TOTAL"), max("TOTAL"), avg("TOTAL"), '
        'quantile_cont("TOTAL", 0.25), quantile_cont("TOTAL", 0.75), stddev_samp("TOTAL"), '
        'count(*) FILTER (WHERE "TOTAL" IS NULL) / count(*) FROM "ORDERS"',
    )
    assert stats["distinct_count"] == expected[0]
    for key, value in zip(("min", "max", "avg", "q1", "q3", "sd"), expected[1:7], strict=True):
        assert close(stats[key], value), key
    assert stats["percent_null"] == expected[7] == 0
    assert values is None  # thousands of distinct totals: no value list
    assert "approximate" not in stats  # a small table: every statistic exact


def test_percent_null_of_discount(demo_service: Sextant, demo: DemoFiles) -> None:
    stats, _ = stored(demo_service, "ORDERS", "DISCOUNT")
    (share,) = hand(
        demo, 'SELECT avg(CASE WHEN "DISCOUNT" IS NULL THEN 1 ELSE 0 END) FROM "ORDERS"'
    )
    assert close(stats["percent_null"], round(share, 6))
    assert 0.8 < stats["percent_null"] < 0.95


def test_temporal_statistics(demo_service: Sextant, demo: DemoFiles) -> None:
    stats, _ = stored(demo_service, "ORDERS", "CREATED_AT")
    earliest, latest, distinct = hand(
        demo,
        'SELECT min("CREATED_AT"), max("CREATED_AT"), count(DISTINCT "CREATED_AT") FROM "ORDERS"',
    )
    assert stats == {
        "distinct_count": distinct,
        "percent_null": 0.0,
        "earliest": earliest.isoformat(),
        "latest": latest.isoformat(),
    }
    birth, _ = stored(demo_service, "PEOPLE", "BIRTH_DATE")
    (first_birth,) = hand(demo, 'SELECT min("BIRTH_DATE") FROM "PEOPLE"')
    assert birth["earliest"] == first_birth.isoformat()


def test_text_statistics_and_value_lists(demo_service: Sextant, demo: DemoFiles) -> None:
    stats, values = stored(demo_service, "PEOPLE", "STATE")
    (distinct, avg_len) = hand(
        demo, 'SELECT count(DISTINCT "STATE"), avg(length("STATE")) FROM "PEOPLE"'
    )
    assert distinct == 49 and stats["distinct_count"] == 49
    assert close(stats["average_length"], avg_len)
    assert stats["percent_state"] == 1.0 and stats["percent_email"] == 0.0
    expected = [r[0] for r in _all(demo, 'SELECT DISTINCT "STATE" FROM "PEOPLE" ORDER BY 1')]
    assert values == expected and "CA" in values

    email, email_values = stored(demo_service, "PEOPLE", "EMAIL")
    assert email["percent_email"] == 1.0 and email["percent_state"] == 0.0
    assert email_values is None  # 2,500 distinct emails > 1,000

    _, categories = stored(demo_service, "PRODUCTS", "CATEGORY")
    assert categories == ["Doohickey", "Gadget", "Gizmo", "Widget"]
    _, ratings = stored(demo_service, "REVIEWS", "RATING")
    assert ratings == [1, 2, 3, 4, 5]


def test_sensitive_columns_are_never_fingerprinted(demo_service: Sextant) -> None:
    with demo_service.engine.connect() as conn:
        rows = conn.execute(
            select(s.fields.c.name)
            .join(s.fingerprints, s.fingerprints.c.field_id == s.fields.c.id)
            .where(s.fields.c.visibility != "normal")
        ).all()
    assert rows == []
    with pytest.raises(AssertionError, match="no fingerprint"):
        stored(demo_service, "PEOPLE", "PASSWORD")


def _all(demo: DemoFiles, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(demo.warehouse), read_only=True) as con:
        return [tuple(r) for r in con.execute(sql).fetchall()]


def test_one_or_two_scans_per_table(demo: DemoFiles) -> None:
    con = connect(f"duckdb:///{demo.warehouse}")
    orders = con.table("ORDERS")
    counter = ScanCounter()
    columns = [("TOTAL", "type/Float"), ("CREATED_AT", "type/DateTime")]
    fingerprint_table(orders, columns, counter=counter, label="ORDERS")
    assert counter.scans == 1  # no low-cardinality column: one aggregate query
    fingerprint_table(orders, [("QUANTITY", "type/Integer")], counter=counter, label="ORDERS")
    assert counter.scans == 3  # stats + one value-list query
    con.disconnect()


def test_fingerprints_of_a_filtered_view(demo: DemoFiles) -> None:
    """The same code fingerprints a filtered table (what sandboxes will use)."""
    con = connect(f"duckdb:///{demo.warehouse}")
    people = con.table("PEOPLE")
    prints = fingerprint_table(people.filter(people.STATE == "CA"), [("STATE", "type/Text")])
    assert prints["STATE"].values == ["CA"]
    assert prints["STATE"].statistics["distinct_count"] == 1
    (count,) = hand(demo, 'SELECT count(*) FROM "PEOPLE" WHERE "STATE" = \'CA\'')
    assert prints["STATE"].row_count == count
    empty = fingerprint_table(people.filter(people.STATE == "??"), [("STATE", "type/Text")])
    assert empty["STATE"].values == [] and empty["STATE"].statistics["distinct_count"] == 0
    con.disconnect()


def test_introspection_of_the_demo(demo: DemoFiles) -> None:
    con = connect(f"duckdb:///{demo.warehouse}")
    tables = {t.name: t for t in introspect(con, "duckdb", "main")}
    con.disconnect()
    assert sorted(tables) == ["ORDERS", "PEOPLE", "PRODUCTS", "REVIEWS"]
    orders = tables["ORDERS"]
    assert [c.name for c in orders.columns][:3] == ["ID", "USER_ID", "PRODUCT_ID"]
    assert orders.columns[0].primary_key
    user_id = orders.column("USER_ID")
    product_id = tables["REVIEWS"].column("PRODUCT_ID")
    assert user_id is not None and product_id is not None
    assert (user_id.foreign_key.table, user_id.foreign_key.column) == ("PEOPLE", "ID")  # type: ignore[union-attr]
    assert product_id.foreign_key is not None and product_id.foreign_key.table == "PRODUCTS"
    birth = tables["PEOPLE"].column("BIRTH_DATE")
    assert birth is not None and birth.base_type == "type/Date"
    created = orders.column("CREATED_AT")
    assert created is not None and created.base_type == "type/DateTime"
