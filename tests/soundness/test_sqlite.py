"""Soundness on SQLite: the DuckDB suite's query shapes, answered by Sextant serving the demo
shop from a SQLite file and by the same question's hand SQL run directly on that file.

The hand SQL is each case's DuckDB SQL translated (``engines.to_sqlite``); the
``agrees_across_engines`` tests check the translation against the DuckDB hand SQL on identical
data. SQLite keeps dates and times as text, so both sides' values are compared in one spelling
(``engines.sqlite_canonical``). The edge cases run on a copy of the edited DuckDB warehouse.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from sextant.demo.setup import prepare_demo
from sextant.demo.shop import load_tables, sqlite_value
from sextant.service import Sextant
from tests.agent_client import AgentClient
from tests.conftest import make_settings
from tests.soundness import chains, expressions, metric_kinds, test_duckdb, test_duckdb_edges
from tests.soundness.engines import SQLiteWarehouse, edge_tables, sqlite_canonical
from tests.soundness.harness import (
    Case,
    HandResult,
    agree,
    check,
    hand,
    sunday_client,
    variant_client,
)

CASES: list[Case] = test_duckdb.CASES
EDGE_CASES: list[Case] = test_duckdb_edges.CASES


@contextmanager
def sqlite_demo(
    data_dir: Path, edges: duckdb.DuckDBPyConnection | None
) -> Iterator[tuple[AgentClient, SQLiteWarehouse]]:
    """The demo shop in a SQLite file (or, with ``edges``, that DuckDB database's tables), a
    synced service over it and a read-only connection for hand SQL."""
    files = prepare_demo(data_dir, engine="sqlite")
    if edges is not None:
        tables = edge_tables(edges)
        conn = sqlite3.connect(files.warehouse)
        try:
            load_tables(conn, "sqlite", "?", tables, convert=sqlite_value, nullable=True)
            chains.add_first_products(conn, "sqlite")
        finally:
            conn.close()
    service = Sextant(make_settings(files.data_dir, config=files.model))
    conn = sqlite3.connect(f"{files.warehouse.resolve().as_uri()}?mode=ro", uri=True)
    try:
        service.sync()
        yield AgentClient(service), SQLiteWarehouse(conn)
    finally:
        conn.close()
        service.close()


@pytest.fixture(scope="module")
def sqlite_shop(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[AgentClient, SQLiteWarehouse]]:
    with sqlite_demo(tmp_path_factory.mktemp("soundness-sqlite") / "demo", None) as demo:
        yield demo


@pytest.fixture(scope="module")
def sqlite_edges(
    duck_edges: duckdb.DuckDBPyConnection, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AgentClient, SQLiteWarehouse]]:
    target = tmp_path_factory.mktemp("soundness-sqlite-edges") / "demo"
    with sqlite_demo(target, duck_edges) as demo:
        yield demo


@pytest.mark.parametrize("case", [c.param("sqlite") for c in CASES])
def test_matches_hand_sql(sqlite_shop: tuple[AgentClient, SQLiteWarehouse], case: Case) -> None:
    check(*sqlite_shop, case)


@pytest.mark.parametrize("case", [c.param("sqlite") for c in EDGE_CASES])
def test_edges_match_hand_sql(
    sqlite_edges: tuple[AgentClient, SQLiteWarehouse], case: Case
) -> None:
    check(*sqlite_edges, case)


def _canonical(result: HandResult) -> HandResult:
    rows = [[sqlite_canonical(v) for v in row] for row in result.rows]
    return HandResult(result.names, result.types, rows)


def _duck(con: duckdb.DuckDBPyConnection, case: Case) -> HandResult:
    return _canonical(hand(con, case.sql))


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_hand_sql_agrees_across_engines(
    sqlite_shop: tuple[AgentClient, SQLiteWarehouse],
    duck_shop: duckdb.DuckDBPyConnection,
    case: Case,
) -> None:
    agree(_canonical(sqlite_shop[1].hand(case)), _duck(duck_shop, case))


@pytest.mark.parametrize("case", [c.param() for c in EDGE_CASES])
def test_edge_hand_sql_agrees_across_engines(
    sqlite_edges: tuple[AgentClient, SQLiteWarehouse],
    duck_edges: duckdb.DuckDBPyConnection,
    case: Case,
) -> None:
    agree(_canonical(sqlite_edges[1].hand(case)), _duck(duck_edges, case))


@pytest.fixture(scope="module")
def sqlite_sunday(
    sqlite_shop: tuple[AgentClient, SQLiteWarehouse], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AgentClient, SQLiteWarehouse]]:
    client, warehouse = sqlite_shop
    with sunday_client(client.service, tmp_path_factory.mktemp("sunday-sqlite")) as sunday:
        yield sunday, warehouse


@pytest.mark.parametrize("case", [c.param("sqlite") for c in test_duckdb.SUNDAY_CASES])
def test_weeks_starting_sunday_match_hand_sql(
    sqlite_sunday: tuple[AgentClient, SQLiteWarehouse],
    duck_shop: duckdb.DuckDBPyConnection,
    case: Case,
) -> None:
    check(*sqlite_sunday, case)
    agree(_canonical(sqlite_sunday[1].hand(case)), _duck(duck_shop, case))


# -- ratio, derived and cumulative metrics (tests/soundness/metric_kinds.py) -----------------


@pytest.fixture(scope="module")
def sqlite_kinds(
    sqlite_edges: tuple[AgentClient, SQLiteWarehouse], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AgentClient, SQLiteWarehouse]]:
    client, warehouse = sqlite_edges
    data_dir = tmp_path_factory.mktemp("kinds-sqlite")
    with variant_client(client.service, data_dir, chains.with_chains) as kinds:
        yield kinds, warehouse


@pytest.mark.parametrize("case", [c.param("sqlite") for c in chains.CASES])
def test_chains_match_hand_sql(
    sqlite_kinds: tuple[AgentClient, SQLiteWarehouse], case: Case
) -> None:
    check(*sqlite_kinds, case)


@pytest.mark.parametrize("case", [c.param("sqlite") for c in expressions.CASES])
def test_expressions_match_hand_sql(
    sqlite_kinds: tuple[AgentClient, SQLiteWarehouse], case: Case
) -> None:
    check(*sqlite_kinds, case)


@pytest.mark.parametrize("case", [c.param("sqlite") for c in metric_kinds.CASES])
def test_metric_kinds_match_hand_sql(
    sqlite_kinds: tuple[AgentClient, SQLiteWarehouse], case: Case
) -> None:
    check(*sqlite_kinds, case)


@pytest.mark.parametrize("case", [c.param("sqlite") for c in metric_kinds.CASES])
def test_metric_kind_hand_sql_agrees_across_engines(
    sqlite_edges: tuple[AgentClient, SQLiteWarehouse],
    duck_edges: duckdb.DuckDBPyConnection,
    case: Case,
) -> None:
    agree(_canonical(sqlite_edges[1].hand(case)), _duck(duck_edges, case))
