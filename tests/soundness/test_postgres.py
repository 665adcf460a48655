"""Soundness on PostgreSQL: the DuckDB suite's query shapes, answered by Sextant serving the demo
shop from PostgreSQL and by the same question's hand SQL run directly on that database.

The hand SQL is each case's DuckDB SQL translated (``harness.to_postgres``), or the case's own
``postgres`` SQL where translating is not right. The ``agrees_across_engines`` tests check the
translation itself: on identical data, the PostgreSQL hand SQL must give what the DuckDB hand SQL
gives. The edge cases run on a second database, edited like the DuckDB edges' copy (EDITS).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import duckdb
import psycopg
import pytest
import sqlglot

from sextant.demo.setup import prepare_demo
from sextant.service import Sextant
from tests.agent_client import AgentClient
from tests.conftest import fresh_postgres_database, make_settings
from tests.soundness import chains, expressions, metric_kinds, test_duckdb, test_duckdb_edges
from tests.soundness.harness import (
    Case,
    PostgresWarehouse,
    agree,
    check,
    hand,
    sunday_client,
    variant_client,
)

CASES: list[Case] = test_duckdb.CASES
EDGE_CASES: list[Case] = test_duckdb_edges.CASES
REPO = Path(__file__).resolve().parents[2]


def pg_edits() -> list[str]:
    return [
        sqlglot.transpile(s, read="duckdb", write="postgres", identify=True)[0]
        for s in test_duckdb_edges.EDITS
    ]


def fresh_database(server: str) -> AbstractContextManager[str]:
    return fresh_postgres_database(server, prefix="sextant_soundness")


@contextmanager
def pg_demo(
    server: str, data_dir: Path, edits: list[str]
) -> Iterator[tuple[AgentClient, PostgresWarehouse]]:
    """The demo shop in a fresh database (``edits`` applied), a synced service over it and a
    connection for hand SQL."""
    with fresh_database(server) as url:
        files = prepare_demo(data_dir, engine="postgres", warehouse_url=url)
        if edits:
            with psycopg.connect(url) as conn:  # one transaction, committed on exit
                for statement in edits:
                    conn.execute(statement)
        service = Sextant(make_settings(files.data_dir, config=files.model))
        try:
            service.sync()
            with psycopg.connect(url, autocommit=True) as conn:
                yield AgentClient(service), PostgresWarehouse(conn)
        finally:
            service.close()


@pytest.fixture(scope="module")
def pg_shop(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AgentClient, PostgresWarehouse]]:
    with pg_demo(postgres_server, tmp_path_factory.mktemp("soundness-pg") / "demo", []) as demo:
        yield demo


@pytest.fixture(scope="module")
def pg_edges(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AgentClient, PostgresWarehouse]]:
    target = tmp_path_factory.mktemp("soundness-pg-edges") / "demo"
    with pg_demo(postgres_server, target, pg_edits()) as demo:
        yield demo


def test_case_ids_are_unique_across_files() -> None:
    ids = [c.id for c in CASES + EDGE_CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", [c.param("postgres") for c in CASES])
def test_matches_hand_sql(pg_shop: tuple[AgentClient, PostgresWarehouse], case: Case) -> None:
    check(*pg_shop, case)


@pytest.mark.parametrize("case", [c.param("postgres") for c in EDGE_CASES])
def test_edges_match_hand_sql(pg_edges: tuple[AgentClient, PostgresWarehouse], case: Case) -> None:
    check(*pg_edges, case)


# -- the translated hand SQL means what the DuckDB hand SQL means -----------------------------


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_hand_sql_agrees_across_engines(
    pg_shop: tuple[AgentClient, PostgresWarehouse],
    duck_shop: duckdb.DuckDBPyConnection,
    case: Case,
) -> None:
    agree(pg_shop[1].hand(case), hand(duck_shop, case.sql))


@pytest.mark.parametrize("case", [c.param() for c in EDGE_CASES])
def test_edge_hand_sql_agrees_across_engines(
    pg_edges: tuple[AgentClient, PostgresWarehouse],
    duck_edges: duckdb.DuckDBPyConnection,
    case: Case,
) -> None:
    agree(pg_edges[1].hand(case), hand(duck_edges, case.sql))


# -- `sextant demo --engine postgres`: loading the shop, then serving, in one process ----------

# Run in a fresh interpreter, in the order of the demo command: prepare_demo (whose loader has
# sqlglot write PostgreSQL DDL) before anything imports Ibis' SQL dialects, then sync and query.
_DEMO_FLOW = """
import json, sys
from pathlib import Path

from sextant.demo.setup import prepare_demo

files = prepare_demo(Path(sys.argv[1]), engine="postgres", warehouse_url=sys.argv[2])

from sextant.service import Sextant
from tests.agent_client import AgentClient
from tests.conftest import _drop_app_databases, make_settings

service = Sextant(make_settings(files.data_dir, config=files.model))
answers = {}
try:
    service.sync()
    api = AgentClient(service)
    email = "admin@example.com"
    for table, column, operation, value in json.loads(sys.argv[3]):
        body = {
            "table_id": api.table_id(table),
            "filters": [
                {"field_id": api.field(email, table, column), "operation": operation,
                 "value": value}
            ],
            "aggregations": [{"function": "count"}],
        }
        built = api.construct(email, body)
        answers[operation + " " + value] = api.execute(email, built.json()["query"]).json()
finally:
    service.close()
    _drop_app_databases()
print(json.dumps(answers))
"""

_DATE_FILTERS = [
    ("PEOPLE", "BIRTH_DATE", "greater-than", "2005-06-01", 'WHERE "BIRTH_DATE" > DATE '),
    ("ORDERS", "CREATED_AT", "equals", "2024-03-01", 'WHERE CAST("CREATED_AT" AS DATE) = DATE '),
]


def test_demo_command_flow_filters_by_date(postgres_server: str, tmp_path: Path) -> None:
    with fresh_database(postgres_server) as url:
        filters = [list(f[:4]) for f in _DATE_FILTERS]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        argv = [sys.executable, "-c", _DEMO_FLOW, str(tmp_path / "demo"), url, json.dumps(filters)]
        done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        answers = json.loads(done.stdout.strip().splitlines()[-1])
        with psycopg.connect(url) as conn:
            for table, _column, operation, value, where in _DATE_FILTERS:
                sql = f"SELECT count(*) FROM \"{table}\" {where}'{value}'"
                (expected,) = conn.execute(sql).fetchone() or (None,)
                answer = answers[f"{operation} {value}"]
                assert answer.get("status") == "completed", answer
                assert answer["data"]["rows"] == [[expected]]


@pytest.fixture(scope="module")
def postgres_sunday(
    pg_shop: tuple[AgentClient, PostgresWarehouse], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AgentClient, PostgresWarehouse]]:
    client, warehouse = pg_shop
    with sunday_client(client.service, tmp_path_factory.mktemp("sunday-postgres")) as sunday:
        yield sunday, warehouse


@pytest.mark.parametrize("case", [c.param("postgres") for c in test_duckdb.SUNDAY_CASES])
def test_weeks_starting_sunday_match_hand_sql(
    postgres_sunday: tuple[AgentClient, PostgresWarehouse],
    duck_shop: duckdb.DuckDBPyConnection,
    case: Case,
) -> None:
    check(*postgres_sunday, case)
    agree(postgres_sunday[1].hand(case), hand(duck_shop, case.sql))


# -- ratio, derived and cumulative metrics (tests/soundness/metric_kinds.py) -----------------


@pytest.fixture(scope="module")
def pg_kinds(
    pg_edges: tuple[AgentClient, PostgresWarehouse], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AgentClient, PostgresWarehouse]]:
    client, warehouse = pg_edges
    data_dir = tmp_path_factory.mktemp("kinds-pg")
    with variant_client(client.service, data_dir, chains.with_chains) as kinds:
        yield kinds, warehouse


@pytest.mark.parametrize("case", [c.param("postgres") for c in chains.CASES])
def test_chains_match_hand_sql(pg_kinds: tuple[AgentClient, PostgresWarehouse], case: Case) -> None:
    check(*pg_kinds, case)


@pytest.mark.parametrize("case", [c.param("postgres") for c in expressions.CASES])
def test_expressions_match_hand_sql(
    pg_kinds: tuple[AgentClient, PostgresWarehouse], case: Case
) -> None:
    check(*pg_kinds, case)


@pytest.mark.parametrize("case", [c.param("postgres") for c in metric_kinds.CASES])
def test_metric_kinds_match_hand_sql(
    pg_kinds: tuple[AgentClient, PostgresWarehouse], case: Case
) -> None:
    check(*pg_kinds, case)


@pytest.mark.parametrize("case", [c.param("postgres") for c in metric_kinds.CASES])
def test_metric_kind_hand_sql_agrees_across_engines(
    pg_edges: tuple[AgentClient, PostgresWarehouse],
    duck_edges: duckdb.DuckDBPyConnection,
    case: Case,
) -> None:
    agree(pg_edges[1].hand(case), hand(duck_edges, case.sql))
