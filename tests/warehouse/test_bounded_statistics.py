"""Statistics of large tables in bounded memory: distinct counts stay exact, quartiles are
sketched and say so, and a table whose one-scan statistics do not fit the memory limit is
described the bounded way instead of failing (issue 18, item 2)."""

from __future__ import annotations

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pytest

from sextant.demo.setup import DemoFiles
from sextant.errors import ConfigurationError
from sextant.settings import Settings
from sextant.warehouse.connection import bounded_memory, connect
from sextant.warehouse.fingerprint import ScanCounter, fingerprint_table

COLUMNS = {
    "ORDERS": [
        ("ID", "type/BigInteger"),
        ("USER_ID", "type/BigInteger"),
        ("SUBTOTAL", "type/Float"),
        ("DISCOUNT", "type/Float"),
        ("QUANTITY", "type/Integer"),
        ("CREATED_AT", "type/DateTime"),
    ],
    "PEOPLE": [
        ("NAME", "type/Text"),
        ("CITY", "type/Text"),
        ("STATE", "type/Text"),
        ("SOURCE", "type/Text"),
        ("BIRTH_DATE", "type/Date"),
        ("LATITUDE", "type/Float"),
    ],
}


@pytest.mark.parametrize("table", sorted(COLUMNS))
def test_bounded_statistics_equal_the_exact_ones_but_for_sketched_quartiles(
    demo: DemoFiles, table: str
) -> None:
    con = connect(f"duckdb:///{demo.warehouse}")
    rows = con.table(table)
    columns = COLUMNS[table]
    exact = fingerprint_table(rows, columns, exact_rows=None)
    counter = ScanCounter()
    bounded = fingerprint_table(rows, columns, exact_rows=100, counter=counter, label=table)
    con.disconnect()
    # a count first, the one-scan statistics, one grouping per column, the value lists
    assert counter.scans == 1 + 1 + len(columns) + 1
    with duckdb.connect(str(demo.warehouse), read_only=True) as hand:
        for name, base_type in columns:
            a, b = exact[name], bounded[name]
            (distinct,) = hand.execute(
                f'SELECT count(DISTINCT "{name}") FROM "{table}"'
            ).fetchone() or (None,)
            assert a.statistics["distinct_count"] == b.statistics["distinct_count"] == distinct
            assert a.values == b.values and a.row_count == b.row_count
            sketched = base_type in {"type/BigInteger", "type/Float", "type/Integer"}
            assert b.statistics.pop("approximate", False) is sketched, name
            assert "approximate" not in a.statistics
            for key in ("q1", "q3"):
                if sketched:
                    spread = (a.statistics["max"] - a.statistics["min"]) or 1
                    assert abs(b.statistics.pop(key) - a.statistics.pop(key)) <= 0.02 * spread
            assert b.statistics == a.statistics, name


def test_a_table_too_big_for_the_memory_limit_is_described_the_bounded_way(
    demo: DemoFiles,
) -> None:
    """When the one-scan statistics run out of memory (DuckDB's own exception, raised here
    on the first scan that counts distinct values in one go; whether a real table does
    depends on the threads' timing), the table is described the bounded way instead."""
    backend = connect(f"duckdb:///{demo.warehouse}")
    refused: list[str] = []

    def run(expr: ir.Table) -> pa.Table:
        sql = str(ibis.to_sql(expr, dialect="duckdb"))
        if "COUNT(DISTINCT" in sql.upper() and not refused:
            refused.append(sql)
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate (test)")
        return backend.to_pyarrow(expr)

    columns = [("ID", "type/BigInteger"), ("NAME", "type/Text")]
    prints = fingerprint_table(backend.table("PEOPLE"), columns, run=run, exact_rows=None)
    assert refused, "the one-scan statistics were not tried first"
    with duckdb.connect(str(demo.warehouse), read_only=True) as hand:
        (ids, names) = hand.execute(
            'SELECT count(DISTINCT "ID"), count(DISTINCT "NAME") FROM "PEOPLE"'
        ).fetchone() or (None, None)
    assert prints["ID"].statistics["distinct_count"] == ids
    assert prints["NAME"].statistics["distinct_count"] == names
    assert prints["ID"].statistics["approximate"] is True  # the quartiles were sketched
    # another error is not taken for a lack of memory
    with pytest.raises(duckdb.CatalogException):
        fingerprint_table(
            backend.table("PEOPLE"),
            columns,
            run=lambda expr: (_ for _ in ()).throw(duckdb.CatalogException("no such table")),
        )
    backend.disconnect()


def test_sync_holds_duckdb_to_its_memory_limit_and_sets_it_back(demo: DemoFiles) -> None:
    backend = connect(f"duckdb:///{demo.warehouse}")
    raw = backend.con  # type: ignore[attr-defined]

    def limit() -> str:
        return str((raw.execute("SELECT current_setting('memory_limit')").fetchone() or ("",))[0])

    before = limit()
    with bounded_memory(backend, "duckdb", "96MB"):
        assert limit() == "91.5 MiB"  # DuckDB's spelling of 96 MB
    assert limit() == before
    with pytest.raises(RuntimeError), bounded_memory(backend, "duckdb", "96MB"):
        raise RuntimeError("a failed fingerprint")
    assert limit() == before
    backend.disconnect()


def test_sync_memory_limit_is_checked_and_can_be_turned_off() -> None:
    env = {"SEXTANT_SYNC_MEMORY_LIMIT": "off"}
    assert Settings.from_env(env).sync_memory_limit is None
    assert Settings.from_env({"SEXTANT_SYNC_MEMORY_LIMIT": "2GB"}).sync_memory_limit == "2GB"
    with pytest.raises(ConfigurationError, match="must look like 128MB or 2GB"):
        Settings.from_env({"SEXTANT_SYNC_MEMORY_LIMIT": "lots"})
    with pytest.raises(ConfigurationError, match="exact_statistics_rows must be >= 0"):
        Settings.from_env({"SEXTANT_EXACT_STATISTICS_ROWS": "-1"})


def test_a_column_too_big_for_the_grouping_gets_an_estimate_that_says_so(
    demo: DemoFiles,
) -> None:
    """The grouping that counts NAME's distinct values runs out of memory (DuckDB's own
    exception, raised here): NAME's count is then a HyperLogLog estimate, flagged; the other
    columns keep their exact counts."""
    backend = connect(f"duckdb:///{demo.warehouse}")

    def run(expr: ir.Table) -> pa.Table:
        sql = str(ibis.to_sql(expr, dialect="duckdb"))
        if "SELECT DISTINCT" in sql.upper() and '"NAME"' in sql:
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate (test)")
        return backend.to_pyarrow(expr)

    columns = [("NAME", "type/Text"), ("STATE", "type/Text")]
    prints = fingerprint_table(backend.table("PEOPLE"), columns, run=run, exact_rows=10)
    backend.disconnect()
    with duckdb.connect(str(demo.warehouse), read_only=True) as hand:
        (names, states) = hand.execute(
            'SELECT count(DISTINCT "NAME"), count(DISTINCT "STATE") FROM "PEOPLE"'
        ).fetchone() or (None, None)
    name, state = prints["NAME"].statistics, prints["STATE"].statistics
    assert name["approximate"] is True
    assert abs(name["distinct_count"] - names) <= 0.3 * names  # HyperLogLog, roughly
    assert "approximate" not in state and state["distinct_count"] == states
