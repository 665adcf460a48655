"""Keyword search over a schema written without descriptions: run-together column names
(TPC-H's ``l_shipmode``, ``c_mktsegment``) are found by the words they are made of."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from sextant.search.compounds import name_words, split_compound
from sextant.service import Sextant
from tests.agent_client import AgentClient
from tests.conftest import make_settings

USER = "engineer@example.com"
MODEL = """
version: 1
settings:
  jwt: {{secret: "${{SEXTANT_JWT_SECRET}}"}}
databases:
  - name: TPCH
    url: duckdb://{path}
groups:
  - {{name: Engineers}}
users:
  - {{email: engineer@example.com, groups: [Engineers]}}
permissions:
  data:
    - {{group: Engineers, tables: "*", access: query}}
"""
TABLES = {
    "lineitem": "l_orderkey INTEGER, l_suppkey INTEGER, l_extendedprice DOUBLE, "
    "l_shipmode VARCHAR, l_commitdate DATE, l_receiptdate DATE, l_returnflag VARCHAR",
    "customer": "c_custkey INTEGER, c_name VARCHAR, c_mktsegment VARCHAR, c_acctbal DOUBLE",
    "partsupp": "ps_partkey INTEGER, ps_suppkey INTEGER, ps_availqty INTEGER",
    "orders": "o_orderkey INTEGER, o_custkey INTEGER, o_orderpriority VARCHAR, o_totalprice DOUBLE",
}


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("l_shipmode", "ship mode"),
        ("c_mktsegment", "market segment"),
        ("l_extendedprice", "extended price"),
        ("ps_availqty", "available quantity"),
        ("c_acctbal", "account balance"),
        ("p_mfgr", "manufacturer"),
        ("o_orderpriority", "order priority"),
        ("l_shipinstruct", ""),  # 'instruct' is not a known word: left alone, never garbled
        ("CREATED_AT", ""),  # already words
        ("SUBTOTAL", "sub total"),
    ],
)
def test_names_split_into_the_words_they_are_made_of(name: str, words: str) -> None:
    assert name_words(name) == words


def test_a_known_word_is_never_split() -> None:
    assert split_compound("discount") == ("discount",)
    assert split_compound("comment") == ("comment",)


@pytest.fixture(scope="module")
def tpch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentClient]:
    folder = tmp_path_factory.mktemp("tpch-names")
    path = folder / "tpch.duckdb"
    with duckdb.connect(str(path)) as con:
        for table, columns in TABLES.items():
            con.execute(f"CREATE TABLE {table} ({columns})")
    model = folder / "model.yaml"
    model.write_text(MODEL.format(path=path))
    service = Sextant(make_settings(folder, config=model))
    try:
        service.sync()
        yield AgentClient(service)
    finally:
        service.close()


@pytest.mark.parametrize(
    ("question", "table"),
    [
        ("ship mode", "lineitem"),
        ("extended price", "lineitem"),
        ("market segment of customers", "customer"),
        ("account balance", "customer"),
        ("available quantity", "partsupp"),
        ("order priority", "orders"),
    ],
)
def test_keyword_search_finds_tables_by_the_words_of_their_columns(
    tpch: AgentClient, question: str, table: str
) -> None:
    r = tpch.request("POST", "/search", USER, json={"term_queries": [question]})
    assert r.status_code == 200, r.text
    found = [d["name"] for d in r.json()["data"]]
    assert found[:1] == [table], found
