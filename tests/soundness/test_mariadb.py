"""Soundness on MariaDB: the DuckDB suite's query shapes, answered by Sextant serving the demo
shop from MariaDB and by the same question's hand SQL run directly on that database.

The hand SQL is each case's DuckDB SQL translated (``engines.to_mysql``); the
``agrees_across_engines`` tests check the translation itself against the DuckDB hand SQL on
identical data. The edge cases run on a copy of the edited DuckDB warehouse (NULLs, empty and
mixed-case strings), loaded with the same table layout, nullable.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import MySQLdb
import pytest

from sextant.demo.setup import prepare_demo
from sextant.demo.shop import load_tables
from sextant.service import Sextant
from sextant.warehouse.connection import mysql_params
from tests.agent_client import AgentClient
from tests.conftest import fresh_mariadb_database, make_settings
from tests.soundness import chains, expressions, metric_kinds, test_duckdb, test_duckdb_edges
from tests.soundness.engines import MySQLWarehouse, edge_tables
from tests.soundness.harness import Case, agree, check, hand, sunday_client, variant_client

CASES: list[Case] = test_duckdb.CASES
EDGE_CASES: list[Case] = test_duckdb_edges.CASES

# MariaDB compares and groups text by the column's collation, case-insensitive by default
# (utf8mb4_general_ci): 'ca' equals 'CA', 'Oakland' and 'OAKLAND' are one group. Sextant's
# answers there are the database's own (the hand SQL tests above pass), but they differ from
# DuckDB's; strict, so that these start failing if the difference ever goes away.
COLLATION = pytest.mark.xfail(
    strict=True, reason="case-insensitive collation: text equality and grouping ignore case"
)
COLLATION_CASES = {
    "equals-string-is-exact",
    "null-equals-is-exact-about-case",
    "null-string-contains-both-cases",
    "null-string-ends-with-both-cases",
    "null-group-by-string-with-empty",
    "orphan-sandbox-year-not-equals",
}


def across(case: Case) -> Any:
    if case.id in COLLATION_CASES:
        return pytest.param(case, id=case.id, marks=COLLATION)
    return case.param()


def _connect(url: str) -> Any:
    return MySQLdb.connect(**mysql_params(url))


@contextmanager
def mariadb_demo(
    data_dir: Path, edges: duckdb.DuckDBPyConnection | None
) -> Iterator[tuple[AgentClient, MySQLWarehouse]]:
    """The demo shop in a fresh MariaDB database (or, with ``edges``, that DuckDB database's
    tables), a synced service over it and a connection for hand SQL."""
    with fresh_mariadb_database("sextant_soundness") as url:
        files = prepare_demo(data_dir, engine="mysql", warehouse_url=url)
        if edges is not None:
            tables = edge_tables(edges)
            conn = _connect(url)
            try:
                conn.autocommit(False)
                load_tables(conn, "mysql", "%s", tables, nullable=True)
                chains.add_first_products(conn, "mysql")
            finally:
                conn.close()
        service = Sextant(make_settings(files.data_dir, config=files.model))
        conn = _connect(url)
        try:
            service.sync()
            yield AgentClient(service), MySQLWarehouse(conn)
        finally:
            conn.close()
            service.close()


@pytest.fixture(scope="module")
def maria_shop(
    mariadb_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AgentClient, MySQLWarehouse]]:
    with mariadb_demo(tmp_path_factory.mktemp("soundness-maria") / "demo", None) as demo:
        yield demo


@pytest.fixture(scope="module")
def maria_edges(
    mariadb_server: str,
    duck_edges: duckdb.DuckDBPyConnection,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[AgentClient, MySQLWarehouse]]:
    target = tmp_path_factory.mktemp("soundness-maria-edges") / "demo"
    with mariadb_demo(target, duck_edges) as demo:
        yield demo


@pytest.mark.parametrize("case", [c.param("mysql") for c in CASES])
def test_matches_hand_sql(maria_shop: tuple[AgentClient, MySQLWarehouse], case: Case) -> None:
    check(*maria_shop, case)


@pytest.mark.parametrize("case", [c.param("mysql") for c in EDGE_CASES])
def test_edges_match_hand_sql(maria_edges: tuple[AgentClient, MySQLWarehouse], case: Case) -> None:
    check(*maria_edges, case)


@pytest.mark.parametrize("case", [across(c) for c in CASES])
def test_hand_sql_agrees_across_engines(
    maria_shop: tuple[AgentClient, MySQLWarehouse],
    duck_shop: duckdb.DuckDBPyConnection,
    case: Case,
) -> None:
    agree(maria_shop[1].hand(case), hand(duck_shop, case.sql))


@pytest.mark.parametrize("case", [across(c) for c in EDGE_CASES])
def test_edge_hand_sql_agrees_across_engines(
    maria_edges: tuple[AgentClient, MySQLWarehouse],
    duck_edges: duckdb.DuckDBPyConnection,
    case: Case,
) -> None:
    agree(maria_edges[1].hand(case), hand(duck_edges, case.sql))


def test_pages_of_text_equal_under_the_collation(
    maria_edges: tuple[AgentClient, MySQLWarehouse],
) -> None:
    """MariaDB's default collation calls 'Austin' and 'AUSTIN' equal: the pages of a query
    ordered by such text still hold every row once (the total order adds the bytes)."""
    client, warehouse = maria_edges
    field = client.field("analyst@example.com", "PEOPLE", "CITY")
    body = {
        "table_id": client.table_id("PEOPLE"),
        "filters": [
            {
                "field_id": client.field("analyst@example.com", "PEOPLE", "ID"),
                "operation": "less-than-or-equal",
                "value": 1500,
            }
        ],
        "fields": [{"field_id": field}],
        "order_by": [{"field": {"field_id": field}}],
        "page_size": 37,
    }
    rows: list[Any] = []
    request: dict[str, Any] = body
    while True:
        page = client.request("POST", "/query", "analyst@example.com", json=request).json()
        assert page["status"] == "completed", page
        rows += [row[0] for row in page["data"]["rows"]]
        if "continuation_token" not in page:
            break
        request = {"continuation_token": page["continuation_token"]}
    with warehouse.conn.cursor() as cur:
        cur.execute("SELECT CITY FROM PEOPLE WHERE ID <= 1500")
        hand_rows = [row[0] for row in cur.fetchall()]
    assert sorted(rows, key=str) == sorted(hand_rows, key=str)
    cased = {r for r in hand_rows if r} & {r.upper() for r in hand_rows if r and r != r.upper()}
    assert cased, "the edited data has names equal but for their case"
    # ordered as asked (case-insensitively), and names equal but for case by their bytes
    assert rows == sorted(rows, key=lambda r: ((r or "").lower().encode(), (r or "").encode()))


@pytest.fixture(scope="module")
def mysql_sunday(
    maria_shop: tuple[AgentClient, MySQLWarehouse], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AgentClient, MySQLWarehouse]]:
    client, warehouse = maria_shop
    with sunday_client(client.service, tmp_path_factory.mktemp("sunday-mysql")) as sunday:
        yield sunday, warehouse


@pytest.mark.parametrize("case", [c.param("mysql") for c in test_duckdb.SUNDAY_CASES])
def test_weeks_starting_sunday_match_hand_sql(
    mysql_sunday: tuple[AgentClient, MySQLWarehouse],
    duck_shop: duckdb.DuckDBPyConnection,
    case: Case,
) -> None:
    check(*mysql_sunday, case)
    agree(mysql_sunday[1].hand(case), hand(duck_shop, case.sql))


# -- ratio, derived and cumulative metrics (tests/soundness/metric_kinds.py) -----------------


@pytest.fixture(scope="module")
def maria_kinds(
    maria_edges: tuple[AgentClient, MySQLWarehouse], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AgentClient, MySQLWarehouse]]:
    client, warehouse = maria_edges
    data_dir = tmp_path_factory.mktemp("kinds-maria")
    with variant_client(client.service, data_dir, chains.with_chains) as kinds:
        yield kinds, warehouse


@pytest.mark.parametrize("case", [c.param("mysql") for c in chains.CASES])
def test_chains_match_hand_sql(maria_kinds: tuple[AgentClient, MySQLWarehouse], case: Case) -> None:
    check(*maria_kinds, case)


@pytest.mark.parametrize("case", [c.param("mysql") for c in expressions.CASES])
def test_expressions_match_hand_sql(
    maria_kinds: tuple[AgentClient, MySQLWarehouse], case: Case
) -> None:
    check(*maria_kinds, case)


@pytest.mark.parametrize("case", [c.param("mysql") for c in metric_kinds.CASES])
def test_metric_kinds_match_hand_sql(
    maria_kinds: tuple[AgentClient, MySQLWarehouse], case: Case
) -> None:
    check(*maria_kinds, case)


@pytest.mark.parametrize("case", [c.param("mysql") for c in metric_kinds.CASES])
def test_metric_kind_hand_sql_agrees_across_engines(
    maria_edges: tuple[AgentClient, MySQLWarehouse],
    duck_edges: duckdb.DuckDBPyConnection,
    case: Case,
) -> None:
    agree(maria_edges[1].hand(case), hand(duck_edges, case.sql))
