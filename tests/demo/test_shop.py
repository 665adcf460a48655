"""Tests for the deterministic demo warehouse generator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sextant.demo.shop import TABLE_ROWS, build_warehouse, data_checksum, row_counts

# Pinned data checksum of the scale-1 warehouse with the default seed. If you change the generator
# on purpose, regenerate deliberately (and say so in the commit message):
#   python -c "import pathlib, tempfile; from sextant.demo.shop import *; \
#     p = pathlib.Path(tempfile.mkdtemp()) / 'w.duckdb'; build_warehouse(p); \
#     print(data_checksum(p))"
PINNED_SCALE_1_CHECKSUM = "163e44623d66699c981b0ff1c3f5fe7578123a1cd9b75a95b05af5220127e19a"

EXPECTED_COLUMNS = {
    "PRODUCTS": ["ID", "EAN", "TITLE", "CATEGORY", "VENDOR", "PRICE", "RATING", "CREATED_AT"],
    "PEOPLE": [
        "ID", "ADDRESS", "EMAIL", "PASSWORD", "NAME", "CITY", "LONGITUDE", "STATE", "SOURCE",
        "BIRTH_DATE", "ZIP", "LATITUDE", "CREATED_AT",
    ],
    "ORDERS": [
        "ID", "USER_ID", "PRODUCT_ID", "SUBTOTAL", "TAX", "TOTAL", "DISCOUNT", "CREATED_AT",
        "QUANTITY",
    ],
    "REVIEWS": ["ID", "PRODUCT_ID", "REVIEWER", "RATING", "BODY", "CREATED_AT"],
}  # fmt: skip


@pytest.fixture(scope="module")
def scale1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scale1") / "shop.duckdb"
    assert build_warehouse(path) == dict(TABLE_ROWS)
    return path


@pytest.fixture(scope="module")
def scale2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scale2") / "shop.duckdb"
    build_warehouse(path, scale=2)
    return path


@pytest.fixture
def con(scale1: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(scale1), read_only=True) as connection:
        yield connection


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def table_counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: scalar(con, f'SELECT count(*) FROM "{t}"') for t in EXPECTED_COLUMNS}


def test_row_counts_scale_1(scale1: Path) -> None:
    expected = {"PRODUCTS": 200, "PEOPLE": 2_500, "ORDERS": 18_760, "REVIEWS": 1_112}
    assert row_counts(1) == expected
    assert table_counts(scale1) == expected


def test_row_counts_scale_2(scale2: Path) -> None:
    expected = {"PRODUCTS": 200, "PEOPLE": 2_500, "ORDERS": 37_520, "REVIEWS": 2_224}
    assert row_counts(2) == expected
    assert table_counts(scale2) == expected


def test_scaling_leaves_products_and_people_unchanged(scale1: Path, scale2: Path) -> None:
    with duckdb.connect(str(scale2), read_only=True) as con:
        con.execute(f"ATTACH '{scale1}' AS one (READ_ONLY)")
        for table in ("PRODUCTS", "PEOPLE"):
            diff = (
                f'SELECT count(*) FROM (SELECT * FROM "{table}" EXCEPT SELECT * FROM one."{table}")'
            )
            assert scalar(con, diff) == 0


def test_column_order_and_types(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = 'main' AND NOT internal ORDER BY table_name, column_index"
    ).fetchall()
    columns: dict[str, list[str]] = {}
    types: dict[tuple[str, str], str] = {}
    for table, column, data_type in rows:
        columns.setdefault(table, []).append(column)
        types[table, column] = data_type
    assert columns == EXPECTED_COLUMNS
    assert types["PEOPLE", "BIRTH_DATE"] == "DATE"
    assert types["ORDERS", "CREATED_AT"] == "TIMESTAMP"
    assert types["ORDERS", "QUANTITY"] == "INTEGER"
    assert types["REVIEWS", "RATING"] == "INTEGER"
    assert types["PRODUCTS", "RATING"] == "DOUBLE"
    assert types["ORDERS", "TOTAL"] == "DOUBLE"
    assert types["ORDERS", "USER_ID"] == "BIGINT"
    assert types["PEOPLE", "ZIP"] == "VARCHAR"


def test_states(con: duckdb.DuckDBPyConnection) -> None:
    states = {s for (s,) in con.execute('SELECT DISTINCT "STATE" FROM "PEOPLE"').fetchall()}
    assert len(states) == 49
    assert "CA" in states
    assert all(len(s) == 2 and s.isupper() for s in states)
    ca_share = scalar(con, 'SELECT avg(CASE WHEN "STATE" = \'CA\' THEN 1 ELSE 0 END) FROM "PEOPLE"')
    assert 0.05 < ca_share < 0.12


def test_categories_and_sources(con: duckdb.DuckDBPyConnection) -> None:
    categories = {
        c for (c,) in con.execute('SELECT DISTINCT "CATEGORY" FROM "PRODUCTS"').fetchall()
    }
    sources = {s for (s,) in con.execute('SELECT DISTINCT "SOURCE" FROM "PEOPLE"').fetchall()}
    assert categories == {"Doohickey", "Gadget", "Gizmo", "Widget"}
    assert sources == {"Affiliate", "Facebook", "Google", "Organic", "Twitter"}


def test_declared_keys(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "SELECT table_name, constraint_type, constraint_column_names, referenced_table, "
        "referenced_column_names FROM duckdb_constraints() "
        "WHERE constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')"
    ).fetchall()
    primary = {t for t, kind, cols, _, _ in rows if kind == "PRIMARY KEY" and cols == ["ID"]}
    foreign = {
        (t, cols[0], ref, ref_cols[0])
        for t, kind, cols, ref, ref_cols in rows
        if kind == "FOREIGN KEY"
    }
    assert primary == set(EXPECTED_COLUMNS)
    assert foreign == {
        ("ORDERS", "USER_ID", "PEOPLE", "ID"),
        ("ORDERS", "PRODUCT_ID", "PRODUCTS", "ID"),
        ("REVIEWS", "PRODUCT_ID", "PRODUCTS", "ID"),
    }


def test_checksum_is_machine_and_directory_independent(tmp_path: Path, scale1: Path) -> None:
    other = tmp_path / "elsewhere" / "copy.duckdb"
    build_warehouse(other)
    assert data_checksum(other) == data_checksum(scale1)


def test_checksum_pinned(scale1: Path) -> None:
    assert data_checksum(scale1) == PINNED_SCALE_1_CHECKSUM


def test_checksum_depends_on_seed_and_scale(tmp_path: Path, scale1: Path, scale2: Path) -> None:
    reseeded = tmp_path / "reseeded.duckdb"
    build_warehouse(reseeded, seed=7)
    assert data_checksum(reseeded) != data_checksum(scale1)
    assert data_checksum(scale2) != data_checksum(scale1)


def test_order_totals(con: duckdb.DuckDBPyConnection) -> None:
    bad = scalar(
        con,
        'SELECT count(*) FROM "ORDERS" '
        'WHERE abs("TOTAL" - ("SUBTOTAL" + "TAX" - coalesce("DISCOUNT", 0))) > 0.01',
    )
    assert bad == 0
    bad_subtotal = scalar(
        con,
        'SELECT count(*) FROM "ORDERS" o JOIN "PRODUCTS" p ON o."PRODUCT_ID" = p."ID" '
        'WHERE abs(o."SUBTOTAL" - p."PRICE" * o."QUANTITY") > 0.01',
    )
    assert bad_subtotal == 0


def test_discount_mostly_null(con: duckdb.DuckDBPyConnection) -> None:
    null_share = scalar(
        con, 'SELECT avg(CASE WHEN "DISCOUNT" IS NULL THEN 1 ELSE 0 END) FROM "ORDERS"'
    )
    assert 0.80 <= null_share <= 0.95


def test_quantity_skewed_small(con: duckdb.DuckDBPyConnection) -> None:
    low, high = (
        con.execute('SELECT min("QUANTITY"), max("QUANTITY") FROM "ORDERS"').fetchone() or ()
    )
    assert low == 1
    assert high <= 10
    share = scalar(con, 'SELECT avg(CASE WHEN "QUANTITY" > 2 THEN 1 ELSE 0 END) FROM "ORDERS"')
    assert 0 < share < 0.5


def test_order_dates_span_four_years(con: duckdb.DuckDBPyConnection) -> None:
    first, last = (
        con.execute('SELECT min("CREATED_AT"), max("CREATED_AT") FROM "ORDERS"').fetchone() or ()
    )
    assert isinstance(first, dt.datetime)
    assert first.tzinfo is None
    assert dt.datetime(2022, 1, 1) <= first < dt.datetime(2022, 2, 1)
    assert dt.datetime(2025, 12, 1) <= last < dt.datetime(2026, 1, 1)
    years = scalar(con, 'SELECT count(DISTINCT year("CREATED_AT")) FROM "ORDERS"')
    assert years == 4


def test_birth_date_is_date(con: duckdb.DuckDBPyConnection) -> None:
    value = scalar(con, 'SELECT "BIRTH_DATE" FROM "PEOPLE" ORDER BY "ID" LIMIT 1')
    assert type(value) is dt.date


@pytest.mark.parametrize(
    ("table", "column", "pattern"),
    [
        ("PRODUCTS", "EAN", "[0-9]{13}"),
        ("PEOPLE", "ZIP", "[0-9]{5}"),
        ("PEOPLE", "PASSWORD", "[0-9a-f]{32}"),
        ("PEOPLE", "EMAIL", "[a-z]+\\.[a-z]+[0-9]*@[a-z]+\\.[a-z]+"),
        ("PEOPLE", "NAME", "[A-Z][a-z]+ [A-Z][a-z]+"),
    ],
)
def test_value_formats(
    con: duckdb.DuckDBPyConnection, table: str, column: str, pattern: str
) -> None:
    sql = f'SELECT count(*) FROM "{table}" WHERE NOT regexp_full_match("{column}", ?)'
    row = con.execute(sql, [pattern]).fetchone()
    assert row == (0,)


def test_value_ranges(con: duckdb.DuckDBPyConnection) -> None:
    assert scalar(con, 'SELECT count(*) - count(DISTINCT "EMAIL") FROM "PEOPLE"') == 0
    assert scalar(con, 'SELECT count(*) FROM "REVIEWS" WHERE "RATING" NOT BETWEEN 1 AND 5') == 0
    assert scalar(con, 'SELECT count(*) FROM "PRODUCTS" WHERE "RATING" NOT BETWEEN 1 AND 5') == 0


@pytest.mark.parametrize("scale", [0, -1, 1.5, True, "2"])
def test_invalid_scale_rejected(tmp_path: Path, scale: Any) -> None:
    target = tmp_path / "never.duckdb"
    with pytest.raises(ValueError):
        build_warehouse(target, scale=scale)
    assert not target.exists()


def test_rebuild_over_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "shop.duckdb"
    target.write_bytes(b"not a duckdb file")
    build_warehouse(target)
    first = data_checksum(target)
    build_warehouse(target)
    assert data_checksum(target) == first == PINNED_SCALE_1_CHECKSUM
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.duckdb"]
