"""Generated queries executed by sandboxed users never return a row outside their sandbox.

Each generated query is run as ca-manager (PEOPLE and ORDERS limited to STATE = CA) and
compared with hand SQL over the same warehouse with the sandbox written out by hand, on DuckDB,
SQLite and MariaDB (the hand SQL is written for DuckDB and translated by sqlglot).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import MySQLdb
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sextant.demo.setup import prepare_demo
from sextant.service import Sextant
from sextant.warehouse.connection import mysql_params
from tests.agent_client import AgentClient
from tests.conftest import fresh_mariadb_database, make_settings

CA = "ca-manager@example.com"
NOSTATE = "nostate@example.com"

# (table alias, column, via FK on ORDERS, sample values)
COLUMNS = {
    "TOTAL": ("o", "TOTAL", None, [10, 50, 100, 150]),
    "QUANTITY": ("o", "QUANTITY", None, [1, 2, 3, 5]),
    "SOURCE": ("p", "SOURCE", "USER_ID", ["Organic", "Google", "Twitter"]),
    "STATE": ("p", "STATE", "USER_ID", ["CA", "NY", "TX"]),
    "CATEGORY": ("pr", "CATEGORY", "PRODUCT_ID", ["Widget", "Gizmo"]),
}
OPS = {"equals": "=", "not-equals": "<>", "greater-than": ">", "less-than": "<"}


Hand = Callable[[str, list[Any]], list[tuple[Any, ...]]]


@pytest.fixture(scope="module", params=["duckdb", "sqlite", "mysql"])
def warehouse(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AgentClient, Hand]]:
    """The demo on one engine: a client of a synced service, and hand SQL on the same data."""
    engine = str(request.param)
    if engine == "duckdb":
        service: Sextant = request.getfixturevalue("shared_service")
        path = service.settings.data_dir / "warehouse.duckdb"

        def duck(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
            with duckdb.connect(str(path), read_only=True) as con:
                return [tuple(r) for r in con.execute(sql, params).fetchall()]

        yield AgentClient(service), duck
        return
    data_dir = tmp_path_factory.mktemp(f"no-leak-{engine}") / "demo"
    with contextlib.ExitStack() as stack:
        url = None
        if engine == "mysql":
            request.getfixturevalue("mariadb_server")
            url = stack.enter_context(fresh_mariadb_database("sextant_no_leak"))
        files = prepare_demo(data_dir, engine=engine, warehouse_url=url)
        service = Sextant(make_settings(files.data_dir, config=files.model))
        stack.callback(service.close)
        service.sync()
        if engine == "sqlite":
            lite = sqlite3.connect(f"{files.warehouse.resolve().as_uri()}?mode=ro", uri=True)
            stack.callback(lite.close)

            def run_sqlite(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
                translated = sqlglot.transpile(sql, read="duckdb", write="sqlite")[0]
                return [tuple(r) for r in lite.execute(translated, params).fetchall()]

            yield AgentClient(service), run_sqlite
            return
        assert url is not None
        my = MySQLdb.connect(**mysql_params(url))
        stack.callback(my.close)

        def run_mysql(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
            translated = sqlglot.transpile(sql, read="duckdb", write="mysql")[0]
            cursor = my.cursor()
            cursor.execute(translated.replace("?", "%s"), params)
            rows = [tuple(r) for r in cursor.fetchall()]
            cursor.close()
            return rows

        yield AgentClient(service), run_mysql


@pytest.fixture
def api(warehouse: tuple[AgentClient, Hand]) -> AgentClient:
    return warehouse[0]


@st.composite
def queries(draw: st.DrawFn) -> dict[str, Any]:
    filters = []
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(sorted(COLUMNS)))
        numeric = name in ("TOTAL", "QUANTITY")
        op = draw(st.sampled_from(sorted(OPS) if numeric else ["equals", "not-equals"]))
        filters.append((name, op, draw(st.sampled_from(COLUMNS[name][3]))))
    group = draw(st.one_of(st.none(), st.sampled_from(["STATE", "SOURCE", "CATEGORY", "QUANTITY"])))
    return {"filters": filters, "group": group, "raw": draw(st.booleans())}


def _sql_filter(name: str, op: str) -> str:
    alias, column, _, _ = COLUMNS[name]
    if op == "not-equals":
        return f'({alias}."{column}" IS NULL OR {alias}."{column}" <> ?)'
    return f'{alias}."{column}" {OPS[op]} ?'


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=queries())
def test_generated_queries_stay_in_the_sandbox(
    warehouse: tuple[AgentClient, Hand], spec: dict[str, Any]
) -> None:
    api, hand = warehouse
    ids = {n: api.field(CA, "ORDERS", c[1], via=c[2]) for n, c in COLUMNS.items()}
    filters = [{"field_id": ids[n], "operation": op, "value": v} for n, op, v in spec["filters"]]
    body: dict[str, Any] = {"table_id": api.table_id("ORDERS"), "filters": filters}
    where = ["p.\"STATE\" = 'CA'"] + [_sql_filter(n, op) for n, op, _ in spec["filters"]]
    params = [v for _, _, v in spec["filters"]]
    joins = (
        'FROM "ORDERS" o JOIN "PEOPLE" p ON p."ID" = o."USER_ID" '
        'LEFT JOIN "PRODUCTS" pr ON pr."ID" = o."PRODUCT_ID" WHERE ' + " AND ".join(where)
    )
    if spec["raw"] and spec["group"] is None:
        body["fields"] = [{"field_id": api.field(CA, "ORDERS", "ID")}]
        got = api.run(CA, body)["data"]["rows"]
        allowed = {r[0] for r in hand(f'SELECT o."ID" {joins}', params)}
        assert {r[0] for r in got} <= allowed
        assert len(got) == min(len(allowed), 2000)
        return
    body["aggregations"] = [{"function": "count"}, {"function": "sum", "field_id": ids["TOTAL"]}]
    if spec["group"] is None:
        (expected,) = hand(f'SELECT count(*), sum(o."TOTAL") {joins}', params)
        (row,) = api.run(CA, body)["data"]["rows"]
        assert row[0] == expected[0]
        assert row[1] == pytest.approx(expected[1]) if expected[1] is not None else row[1] is None
        return
    alias, column, _, _ = COLUMNS[spec["group"]]
    body["group_by"] = [{"field_id": ids[spec["group"]]}]
    expected_rows = hand(
        f'SELECT {alias}."{column}", count(*), sum(o."TOTAL") {joins} '
        "GROUP BY 1 ORDER BY 1 NULLS LAST",
        params,
    )
    got = api.run(CA, body)["data"]["rows"]
    assert [(r[0], r[1]) for r in got] == [(r[0], r[1]) for r in expected_rows]
    if spec["group"] == "STATE":
        assert {r[0] for r in got} <= {"CA"}


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=queries())
def test_a_user_without_the_attribute_sees_nothing(api: AgentClient, spec: dict[str, Any]) -> None:
    body: dict[str, Any] = {
        "table_id": api.table_id("ORDERS"),
        "aggregations": [{"function": "count"}],
    }
    if spec["group"]:
        _, column, via, _ = COLUMNS[spec["group"]]
        body["group_by"] = [{"field_id": api.field(NOSTATE, "ORDERS", column, via=via)}]
    rows = api.run(NOSTATE, body)["data"]["rows"]
    assert rows == ([] if spec["group"] else [[0]])
