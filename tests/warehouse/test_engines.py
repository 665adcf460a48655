"""MariaDB and SQLite as warehouses: the demo loaded there, introspection (types, keys),
fingerprints against hand SQL, and timeouts that really stop the engine's statement."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import MySQLdb
import pytest
from ibis.backends import BaseBackend

from sextant.demo.setup import DemoFiles, prepare_demo
from sextant.demo.shop import TABLE_ROWS
from sextant.warehouse.connection import connect, mysql_params
from sextant.warehouse.fingerprint import fingerprint_table
from sextant.warehouse.introspect import introspect
from sextant.warehouse.runner import Execution, QueryCancelled, QueryTimedOut, run_query
from tests.conftest import fresh_mariadb_database

ENGINES = ["sqlite", "mysql"]


@pytest.fixture(scope="module", params=ENGINES)
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, BaseBackend, Any, DemoFiles]]:
    """(engine, Sextant's connection, a DB-API connection for hand SQL, demo files)."""
    engine = str(request.param)
    data_dir = tmp_path_factory.mktemp(f"engine-{engine}") / "demo"
    if engine == "sqlite":
        files = prepare_demo(data_dir, engine="sqlite")
        con = connect("sqlite://warehouse.sqlite", files.data_dir)
        hand = sqlite3.connect(files.warehouse)
        try:
            yield engine, con, hand, files
        finally:
            hand.close()
            con.disconnect()
        return
    request.getfixturevalue("mariadb_server")
    with fresh_mariadb_database("sextant_engine") as url:
        files = prepare_demo(data_dir, engine="mysql", warehouse_url=url)
        con = connect(url)
        hand = MySQLdb.connect(**mysql_params(url))
        try:
            yield engine, con, hand, files
        finally:
            hand.close()
            con.disconnect()


def _one(hand: Any, sql: str) -> tuple[Any, ...]:
    cursor = hand.cursor()
    try:
        cursor.execute(sql)
        row = cursor.fetchone()
    finally:
        cursor.close()
    assert row is not None
    return tuple(row)


def test_demo_row_counts(loaded: tuple[str, BaseBackend, Any, DemoFiles]) -> None:
    _, _, hand, _ = loaded
    for table, rows in TABLE_ROWS.items():
        assert _one(hand, f"SELECT count(*) FROM {table}") == (rows,)


def test_introspection_reads_types_and_keys(
    loaded: tuple[str, BaseBackend, Any, DemoFiles],
) -> None:
    engine, con, _, _ = loaded
    tables = {t.name: t for t in introspect(con, engine)}
    assert sorted(tables) == ["ORDERS", "PEOPLE", "PRODUCTS", "REVIEWS"]
    orders = {c.name: c for c in tables["ORDERS"].columns}
    assert [c.name for c in tables["ORDERS"].columns] == [
        "ID", "USER_ID", "PRODUCT_ID", "SUBTOTAL", "TAX", "TOTAL", "DISCOUNT", "CREATED_AT",
        "QUANTITY",
    ]  # fmt: skip
    assert orders["ID"].primary_key and not orders["USER_ID"].primary_key
    assert orders["USER_ID"].foreign_key is not None
    assert (orders["USER_ID"].foreign_key.table, orders["USER_ID"].foreign_key.column) == (
        "PEOPLE",
        "ID",
    )
    assert orders["PRODUCT_ID"].foreign_key is not None
    assert orders["PRODUCT_ID"].foreign_key.table == "PRODUCTS"
    assert orders["DISCOUNT"].nullable and not orders["TOTAL"].nullable
    assert orders["TOTAL"].base_type == "type/Float"
    assert orders["CREATED_AT"].base_type == "type/DateTime"
    assert orders["QUANTITY"].base_type in {"type/Integer", "type/BigInteger"}
    people = {c.name: c for c in tables["PEOPLE"].columns}
    assert people["BIRTH_DATE"].base_type == "type/Date"
    assert people["STATE"].base_type == "type/Text"
    assert introspect(con, engine, only=["PEOPLE"])[0].name == "PEOPLE"


def test_fingerprints_match_hand_sql(loaded: tuple[str, BaseBackend, Any, DemoFiles]) -> None:
    engine, con, hand, _ = loaded
    prints = fingerprint_table(
        con.table("ORDERS"),
        [("TOTAL", "type/Float"), ("DISCOUNT", "type/Float"), ("CREATED_AT", "type/DateTime")],
        engine=engine,
    )
    lo, hi, avg, nulls = _one(
        hand, "SELECT min(TOTAL), max(TOTAL), avg(TOTAL), sum(DISCOUNT IS NULL) FROM ORDERS"
    )
    total = prints["TOTAL"].statistics
    assert total["min"] == pytest.approx(lo) and total["max"] == pytest.approx(hi)
    assert total["avg"] == pytest.approx(avg)
    assert total["q1"] is None and total["q3"] is None  # no quantiles on this engine
    assert prints["DISCOUNT"].statistics["percent_null"] == pytest.approx(
        round(int(nulls) / TABLE_ROWS["ORDERS"], 6)
    )
    earliest = prints["CREATED_AT"].statistics["earliest"]
    (first,) = _one(hand, "SELECT min(CREATED_AT) FROM ORDERS")
    assert str(earliest).replace("T", " ") == str(first)
    people = fingerprint_table(con.table("PEOPLE"), [("STATE", "type/Text")], engine=engine)
    cursor = hand.cursor()
    cursor.execute("SELECT DISTINCT STATE FROM PEOPLE ORDER BY STATE")
    states = [r[0] for r in cursor.fetchall()]
    cursor.close()
    assert people["STATE"].values == states and len(states) == 49


def test_timeout_stops_the_statement(loaded: tuple[str, BaseBackend, Any, DemoFiles]) -> None:
    """A self-join of ORDERS (352 million pairs) stopped after 0.5 s; the connection then
    answers the next query."""
    engine, con, _, _ = loaded
    orders = con.table("ORDERS")
    other = orders.select(OTHER_TOTAL=orders.TOTAL)
    slow = orders.cross_join(other).filter(lambda t: t.TOTAL < t.OTHER_TOTAL).count().as_table()
    execution = Execution()
    started = time.monotonic()
    with pytest.raises(QueryTimedOut):
        run_query(con, engine, slow, execution, 0.5, compile_lock=threading.Lock())
    assert time.monotonic() - started < 5
    small = con.table("PRODUCTS").count().as_table()
    table = run_query(con, engine, small, Execution(), 10, compile_lock=threading.Lock())
    assert table.to_pylist() == [{table.column_names[0]: TABLE_ROWS["PRODUCTS"]}]


def test_sqlite_warehouse_is_read_only(tmp_path: Path) -> None:
    files = prepare_demo(tmp_path / "demo", engine="sqlite")
    con = connect("sqlite://warehouse.sqlite", files.data_dir)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            con.raw_sql("DELETE FROM PRODUCTS")  # type: ignore[attr-defined]
    finally:
        con.disconnect()


# -- MariaDB down and back, without restarting Sextant -----------------------------------------


def _admin(sql: str) -> None:
    conn = MySQLdb.connect(host="127.0.0.1", port=3306, user="root")
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        cursor.close()
    finally:
        conn.close()


def _kill_sessions(user: str) -> None:
    conn = MySQLdb.connect(host="127.0.0.1", port=3306, user="root")
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT id FROM information_schema.processlist WHERE user = %s", (user,))
        for (pid,) in cursor.fetchall():
            cursor.execute(f"KILL {int(pid)}")
        cursor.close()
    finally:
        conn.close()


def test_mariadb_outage_and_recovery(mariadb_server: str, tmp_path: Path) -> None:
    """Sextant reads as its own account (user and password in the URL); locking that account
    and killing its sessions is an outage: execute fails cleanly, discovery answers 503; after
    the unlock the same service answers again."""
    from sextant.service import Sextant
    from tests.agent_client import AgentClient
    from tests.conftest import make_settings

    user, password = f"sx_{uuid.uuid4().hex[:8]}", "s3cret-pass"
    with fresh_mariadb_database("sextant_outage") as root_url:
        files = prepare_demo(tmp_path / "demo", engine="mysql", warehouse_url=root_url)
        database = root_url.rsplit("/", 1)[1]
        _admin(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
        try:
            _admin(f"GRANT SELECT ON `{database}`.* TO '{user}'@'%'")
            own_url = f"mysql://{user}:{password}@127.0.0.1:3306/{database}"
            files.model.write_text(files.model.read_text().replace(root_url, own_url))
            service = Sextant(make_settings(files.data_dir, config=files.model))
            try:
                service.sync()
                api = AgentClient(service)
                body = {
                    "table_id": api.table_id("PRODUCTS"),
                    "aggregations": [{"function": "count"}],
                }
                token = api.construct("analyst@example.com", body).json()["query"]
                assert api.execute("analyst@example.com", token).json()["data"]["rows"] == [[200]]
                people = api.table_id("PEOPLE")
                state = api.field("ca-manager@example.com", "PEOPLE", "STATE")
                _admin(f"ALTER USER '{user}'@'%' ACCOUNT LOCK")
                _kill_sessions(user)
                service.fingerprint_cache.clear()
                down = api.execute("analyst@example.com", token)
                assert down.status_code == 202 and down.json()["status"] == "failed"
                assert password not in down.text
                values = api.get(f"/table/{people}/field/{state}/values", "ca-manager@example.com")
                assert values.status_code == 503
                assert values.json()["error"] == "warehouse_unavailable"
                assert password not in values.text
                _admin(f"ALTER USER '{user}'@'%' ACCOUNT UNLOCK")
                again = api.execute("analyst@example.com", token)
                assert again.json()["data"]["rows"] == [[200]]
                values = api.get(f"/table/{people}/field/{state}/values", "ca-manager@example.com")
                assert values.json()["values"] == ["CA"]
            finally:
                service.close()
        finally:
            _admin(f"DROP USER IF EXISTS '{user}'@'%'")


# -- the connection pool -----------------------------------------------------------------------


def test_pool_leases_separate_connections_up_to_its_size(
    loaded: tuple[str, BaseBackend, Any, DemoFiles],
) -> None:
    """Pooled engines: concurrent requests hold different connections, both statements run at
    once, and a third request waits for one to come back."""
    from sextant.warehouse.pool import Warehouses

    _, _, _, files = loaded
    text = files.model.read_text()
    url = next(line.split("url: ", 1)[1] for line in text.splitlines() if "url: " in line)
    pool = Warehouses(lambda: {"shop": url.strip()}, lambda: files.data_dir, size=2)
    try:
        with pool.lease("shop") as (first, _), pool.lease("shop") as (second, _):
            assert first is not second
            waited = threading.Event()

            def third() -> None:
                with pool.lease("shop"):
                    waited.set()

            thread = threading.Thread(target=third)
            thread.start()
            assert not waited.wait(0.3)  # both connections are taken
        thread.join(5)
        assert waited.is_set()
        with pool.lease("shop") as (again, _):
            assert again in (first, second)  # connections are reused, not reopened
        pool.discard("shop")
        with pool.lease("shop") as (fresh, _):
            assert fresh is not first and fresh is not second
    finally:
        pool.close()


def test_mariadb_runs_two_statements_at_once(mariadb_server: str, tmp_path: Path) -> None:
    """Two slow queries through the pool: MariaDB shows both running at the same moment."""
    from sextant.warehouse.pool import Warehouses

    with fresh_mariadb_database("sextant_pool") as url:
        prepare_demo(tmp_path / "demo", engine="mysql", warehouse_url=url)
        pool = Warehouses(lambda: {"shop": url}, lambda: None, size=4)
        errors: list[BaseException] = []
        executions = [Execution(), Execution()]

        def slow(execution: Execution) -> None:
            with pool.lease("shop") as (con, lock):
                orders = con.table("ORDERS")
                other = orders.select(OTHER=orders.TOTAL)
                query = orders.cross_join(other).filter(lambda t: t.TOTAL < t.OTHER)
                try:
                    run_query(con, "mysql", query.count().as_table(), execution, 30,
                              compile_lock=lock)  # fmt: skip
                except QueryCancelled:
                    pass
                except BaseException as exc:
                    errors.append(exc)

        threads = [threading.Thread(target=slow, args=(e,)) for e in executions]
        try:
            for thread in threads:
                thread.start()
            database = url.rsplit("/", 1)[1]
            deadline, running = time.monotonic() + 20, 0
            while time.monotonic() < deadline and running < 2:
                conn = MySQLdb.connect(host="127.0.0.1", port=3306, user="root")
                cursor = conn.cursor()
                cursor.execute(
                    "SELECT count(*) FROM information_schema.processlist "
                    "WHERE db = %s AND command = 'Query' AND info LIKE %s",
                    (database, "%ORDERS%"),
                )
                (running,) = cursor.fetchone()
                conn.close()
                time.sleep(0.05)
            assert running == 2
        finally:
            for execution in executions:
                execution.cancel()
            for thread in threads:
                thread.join(10)
            pool.close()
        assert errors == []


def test_duckdb_shares_one_connection(demo: DemoFiles) -> None:
    """DuckDB runs each query on its own cursor of one connection: leases never wait."""
    from sextant.warehouse.pool import Warehouses

    pool = Warehouses(lambda: {"shop": "duckdb://warehouse.duckdb"}, lambda: demo.data_dir, size=1)
    try:
        with pool.lease("shop") as (first, _), pool.lease("shop") as (second, _):
            assert first is second
    finally:
        pool.close()
