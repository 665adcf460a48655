"""MariaDB and SQLite as warehouses: the demo loaded there, introspection (types, keys),
fingerprints against hand SQL, and timeouts that really stop the engine's statement."""

from __future__ import annotations

import datetime as _dt
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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


# -- found in review: each connection's own stop, session limits, types, text, URLs ------------


def test_each_connection_stops_its_own_statement(mariadb_server: str) -> None:
    """Two connections to one MariaDB: cancelling the first stops the first one's statement and
    leaves the second's running (Ibis backends compare equal; hooks must not mix them up)."""
    from sextant.warehouse.connection import cancel_hook

    first, second = connect(mariadb_server), connect(mariadb_server)
    try:
        stop_first = cancel_hook(first)
        assert stop_first is not None and stop_first is not cancel_hook(second)
        outcome: dict[str, object] = {}

        def sleep(name: str, backend: BaseBackend) -> None:
            cursor: Any = backend.con.cursor()  # type: ignore[attr-defined]
            try:
                cursor.execute("SELECT SLEEP(2)")
                outcome[name] = cursor.fetchall()[0][0]
            except MySQLdb.OperationalError as exc:
                outcome[name] = exc.args[0]
            finally:
                cursor.close()

        threads = [
            threading.Thread(target=sleep, args=("first", first)),
            threading.Thread(target=sleep, args=("second", second)),
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        stop_first()
        for thread in threads:
            thread.join(10)
        # KILL QUERY makes SLEEP return 1 early (or raise 1317); the other sleeps its 2 s: 0
        assert outcome["first"] in (1, 1317)
        assert outcome["second"] == 0
    finally:
        first.disconnect()
        second.disconnect()


def test_sqlite_timeout_stops_the_right_connection(tmp_path: Path) -> None:
    files = prepare_demo(tmp_path / "demo", engine="sqlite")
    first = connect("sqlite://warehouse.sqlite", files.data_dir)
    second = connect("sqlite://warehouse.sqlite", files.data_dir)
    try:
        orders = first.table("ORDERS")
        other = orders.select(OTHER=orders.TOTAL)
        slow = orders.cross_join(other).filter(lambda t: t.TOTAL < t.OTHER).count().as_table()
        started = time.monotonic()
        with pytest.raises(QueryTimedOut):
            run_query(first, "sqlite", slow, Execution(), 0.5, compile_lock=threading.Lock())
        assert time.monotonic() - started < 5
    finally:
        first.disconnect()
        second.disconnect()


@contextmanager
def _mariadb_table(prefix: str, *statements: str) -> Iterator[str]:
    """A fresh MariaDB database (its URL) where root ran ``statements`` (``{db}`` = its name)."""
    with fresh_mariadb_database(prefix) as url:
        database = url.rsplit("/", 1)[1]
        admin = MySQLdb.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
        try:
            cursor = admin.cursor()
            cursor.execute(f"CREATE DATABASE `{database}`")
            for statement in statements:
                cursor.execute(statement.format(db=f"`{database}`"))
        finally:
            admin.close()
        yield url


def test_statement_limit_does_not_stay_on_the_connection(mariadb_server: str) -> None:
    """MariaDB's max_statement_time is a session setting: after a query with a short budget,
    the connection's next user (a compile, a fingerprint scan) has no limit."""
    with _mariadb_table("sextant_limit", "CREATE TABLE {db}.T (ID INT)") as url:
        con = connect(url)
        try:
            run_query(con, "mysql", con.table("T").count().as_table(), Execution(), 0.3,
                      compile_lock=threading.Lock())  # fmt: skip
            cursor: Any = con.con.cursor()  # type: ignore[attr-defined]
            cursor.execute("SELECT @@max_statement_time")
            (limit,) = cursor.fetchone()
            cursor.close()
            assert float(limit) == 0
        finally:
            con.disconnect()


def test_mariadb_session_is_read_only(mariadb_server: str) -> None:
    with _mariadb_table("sextant_ro", "CREATE TABLE {db}.T (ID INT)") as url:
        con = connect(url)
        cursor: Any = con.con.cursor()  # type: ignore[attr-defined]
        try:
            with pytest.raises(MySQLdb.OperationalError, match="READ ONLY"):
                cursor.execute("INSERT INTO T VALUES (1)")
        finally:
            cursor.close()
            con.disconnect()


def test_times_text_and_keys_on_engines(mariadb_server: str, tmp_path: Path) -> None:
    """MySQL TIME values come back as times; SQLite folds non-ASCII case (a negative string
    filter drops 'Émile'), compares ISO texts as instants whatever their spelling, and resolves
    a foreign key that names only the referenced table."""
    from sextant.query.filters import compile_filter
    from sextant.warehouse.engines import profile

    path = tmp_path / "people.sqlite"
    lite = sqlite3.connect(path)
    lite.executescript(
        "CREATE TABLE TEAMS (ID INTEGER PRIMARY KEY, NAME TEXT);"
        "CREATE TABLE P (ID INTEGER PRIMARY KEY, NAME TEXT, SEEN TIMESTAMP,"
        " TEAM_ID INTEGER REFERENCES TEAMS);"
        "INSERT INTO P VALUES (1, 'Émile', '2024-01-05T10:00:00', NULL),"
        " (2, 'Zoë', '2024-01-05 09:00:00', NULL), (3, 'bob', '2024-01-04 23:00:00', NULL);"
    )
    lite.close()
    con = connect("sqlite:///" + str(path))
    try:
        people = con.table("P")
        sqlite = profile("sqlite")
        kept = compile_filter(people.NAME, "type/Text", "string-not-contains", ["émile"], None,
                              sqlite)  # fmt: skip
        assert sorted(people.filter(kept).NAME.to_pyarrow().to_pylist()) == ["Zoë", "bob"]
        later = compile_filter(people.SEEN, "type/DateTime", "greater-than",
                               [_dt.datetime(2024, 1, 5, 9, 30)], None, sqlite)  # fmt: skip
        assert people.filter(later).ID.to_pyarrow().to_pylist() == [1]
        day = compile_filter(people.SEEN, "type/DateTime", "equals", [_dt.date(2024, 1, 5)],
                             None, sqlite)  # fmt: skip
        assert sorted(people.filter(day).ID.to_pyarrow().to_pylist()) == [1, 2]
        tables = {t.name: t for t in introspect(con, "sqlite")}
        team = next(c for c in tables["P"].columns if c.name == "TEAM_ID")
        assert team.foreign_key is not None
        assert (team.foreign_key.table, team.foreign_key.column) == ("TEAMS", "ID")
    finally:
        con.disconnect()
    with _mariadb_table(
        "sextant_time",
        "CREATE TABLE {db}.T (ID INT PRIMARY KEY, AT TIME)",
        "INSERT INTO {db}.T VALUES (1, '12:30:00')",
    ) as url:
        maria = connect(url)
        try:
            table = maria.table("T").select("AT")
            got = run_query(maria, "mysql", table, Execution(), 10, compile_lock=threading.Lock())
            assert got.column("AT").to_pylist() == [_dt.time(12, 30)]
        finally:
            maria.disconnect()


def test_urls_and_parameters() -> None:
    from sextant.warehouse.connection import mysql_params, redact_url

    shown = redact_url(
        "mysql://u:hunter2@db:3306/x?ssl_key=/k.pem&passwd=p&charset=utf8mb4"
        "&spark.hadoop.fs.s3a.secret.key=abc"
    )
    assert "hunter2" not in shown and "/k.pem" not in shown and "abc" not in shown
    assert "passwd=***" in shown and "charset=utf8mb4" in shown and "u:***@db" in shown
    params = mysql_params("mysql://u:1234@db/5678?connect_timeout=3&read_timeout=20")
    assert params["password"] == "1234" and params["database"] == "5678"
    assert params["connect_timeout"] == 3 and params["read_timeout"] == 20
    assert mysql_params("mysql://u@db/x")["connect_timeout"] == 10


def test_pool_discard_and_close_spare_busy_connections(tmp_path: Path) -> None:
    """discard() and close() close idle connections at once and busy ones when their query
    ends, never under it; the pool never holds more connections than its size."""
    from sextant.warehouse.pool import Warehouses

    files = prepare_demo(tmp_path / "demo", engine="sqlite")
    pool = Warehouses(lambda: {"shop": "sqlite://warehouse.sqlite"}, lambda: files.data_dir, 2)
    count = "PRODUCTS"
    with pool.lease("shop") as (busy, _):
        for _ in range(5):
            pool.discard("shop")
            with pool.lease("shop") as (other, _):
                assert other is not busy
                assert other.table(count).count().to_pyarrow().as_py() == 200
        assert len(pool._pools["shop"].slots) == 2
        pool.close()
        assert busy.table(count).count().to_pyarrow().as_py() == 200  # still usable
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        busy.table(count).count().to_pyarrow()  # closed once given back


def test_pool_wait_is_bounded(tmp_path: Path) -> None:
    from sextant.errors import WarehouseError
    from sextant.warehouse.pool import Warehouses

    files = prepare_demo(tmp_path / "demo", engine="sqlite")
    pool = Warehouses(
        lambda: {"shop": "sqlite://warehouse.sqlite"}, lambda: files.data_dir, 1, wait_seconds=0.2
    )
    try:
        busy = pytest.raises(WarehouseError, match=r"stayed busy for 0\.2 s")
        with pool.lease("shop"), busy, pool.lease("shop"):
            pass
    finally:
        pool.close()
