"""DECIMAL values keep every digit over HTTP (a binary float would write 55909065222.82769 for
55909065222.827692), on DuckDB, PostgreSQL and MariaDB: raw rows and sums, compared as text
with hand SQL run on the same database."""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sextant.service import Sextant
from tests.agent_client import AgentClient
from tests.conftest import fresh_mariadb_database, fresh_postgres_database, make_settings

USER = "ledger@example.com"
MODEL = """
version: 1
settings:
  jwt: {{secret: "${{SEXTANT_JWT_SECRET}}"}}
databases:
  - name: Books
    url: {url}
groups:
  - {{name: Clerks}}
users:
  - {{email: ledger@example.com, groups: [Clerks]}}
permissions:
  data:
    - {{group: Clerks, tables: "*", access: query}}
"""
AMOUNTS = ["55909065222.827692", "0.000001", "-12.345678", "7.500000"]
CREATE = 'CREATE TABLE "LEDGER" ("ID" INTEGER, "AMOUNT" DECIMAL(38, 6))'
INSERT = 'INSERT INTO "LEDGER" VALUES ({marks})'


def _duckdb(folder: Path) -> tuple[str, Callable[[str], Any]]:
    path = folder / "books.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(CREATE)
        con.executemany(INSERT.format(marks="?, ?"), list(enumerate(AMOUNTS, 1)))

    def hand(sql: str) -> Any:
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute(sql).fetchone()[0]  # type: ignore[index]

    return f"duckdb://{path}", hand


@pytest.fixture(params=["duckdb", "postgres", "mariadb"])
def books(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[AgentClient, Any]]:
    if request.param == "duckdb":
        url, hand = _duckdb(tmp_path)
        yield from _served(tmp_path, url, hand)
    elif request.param == "postgres":
        import psycopg

        server = request.getfixturevalue("postgres_server")
        with fresh_postgres_database(server, "sextant_books") as url:
            with psycopg.connect(url, autocommit=True) as con:
                con.execute(CREATE.replace("DECIMAL", "NUMERIC"))
                with con.cursor() as cur:
                    cur.executemany(INSERT.format(marks="%s, %s"), list(enumerate(AMOUNTS, 1)))

            def pg_hand(sql: str) -> Any:
                with psycopg.connect(url) as con:
                    return con.execute(sql).fetchone()[0]  # type: ignore[index]

            yield from _served(tmp_path, url, pg_hand)
    else:
        import MySQLdb

        request.getfixturevalue("mariadb_server")
        with fresh_mariadb_database("sextant_books") as url:
            name = url.rsplit("/", 1)[1]
            con = MySQLdb.connect(host="127.0.0.1", port=3306, user="root")
            cur = con.cursor()
            cur.execute(f"CREATE DATABASE `{name}`")
            cur.execute(f"USE `{name}`")
            cur.execute(CREATE.replace('"', "`"))
            cur.executemany(
                INSERT.format(marks="%s, %s").replace('"', "`"), list(enumerate(AMOUNTS, 1))
            )
            con.commit()

            def my_hand(sql: str) -> Any:
                cur.execute(sql.replace('"', "`"))
                return cur.fetchone()[0]  # type: ignore[index]

            try:
                yield from _served(tmp_path, url, my_hand)
            finally:
                con.close()


def _served(folder: Path, url: str, hand: Any) -> Iterator[tuple[AgentClient, Any]]:
    model = folder / "model.yaml"
    model.write_text(MODEL.format(url=url))
    service = Sextant(make_settings(folder, config=model))
    try:
        service.sync()
        yield AgentClient(service), hand
    finally:
        service.close()


def _execute(api: AgentClient, body: dict[str, Any]) -> str:
    made = api.request("POST", "/construct-query", USER, json=body)
    assert made.status_code == 200, made.text
    ran = api.request("POST", "/execute", USER, json=made.json())
    assert ran.status_code == 202, ran.text
    return ran.text


def test_sums_and_rows_keep_every_digit(books: tuple[AgentClient, Any]) -> None:
    api, hand = books
    table = api.table_id("LEDGER")
    amount = api.field(USER, "LEDGER", "AMOUNT")
    total = _execute(
        api, {"table_id": table, "aggregations": [{"function": "sum", "field_id": amount}]}
    )
    expected = hand('SELECT SUM("AMOUNT") FROM "LEDGER"')
    assert isinstance(expected, decimal.Decimal)
    assert f"[[{format(expected, 'f')}]]" in total, total
    assert decimal.Decimal(repr(float(expected))) != expected  # a float would lose digits
    rows = _execute(api, {"table_id": table, "fields": [{"field_id": amount}], "limit": 10})
    for text in AMOUNTS:
        assert f"[{text}]" in rows, rows


def test_the_average_of_decimals_is_typed_as_the_engine_gives_it(
    books: tuple[AgentClient, Any],
) -> None:
    """DuckDB averages decimals as a double, PostgreSQL and MariaDB as a decimal: the column's
    base type says which, and the value is the engine's."""
    api, hand = books
    table = api.table_id("LEDGER")
    amount = api.field(USER, "LEDGER", "AMOUNT")
    made = api.request(
        "POST",
        "/construct-query",
        USER,
        json={"table_id": table, "aggregations": [{"function": "avg", "field_id": amount}]},
    )
    result = api.request("POST", "/execute", USER, json=made.json()).json()
    expected = hand('SELECT AVG("AMOUNT") FROM "LEDGER"')
    (column,) = result["data"]["cols"]
    wanted = "type/Decimal" if isinstance(expected, decimal.Decimal) else "type/Float"
    assert column["base_type"] == wanted, (column, type(expected))
    assert float(result["data"]["rows"][0][0]) == pytest.approx(float(expected), rel=1e-12)
